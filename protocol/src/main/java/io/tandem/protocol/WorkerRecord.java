package io.tandem.protocol;

import java.security.SecureRandom;

/**
 * One live worker as the registry knows it.
 *
 * @param workerId  unique per worker process/verticle
 * @param role      prefill, decode or both
 * @param model     served model name (what /v1/models lists)
 * @param nodeId    the cluster member it runs in (its entries go when the member leaves)
 * @param host      host of its HTTP server (health, metrics, bootstrap)
 * @param httpPort  port of that server
 * @param maxContext context length of the model it serves, in tokens
 * @param load      last reported load
 * @param heartbeatMillis wall-clock time of the last heartbeat
 * @param epoch     random per start of the worker ({@link #newEpoch()}): a restarted worker under the same id is
 *                  told apart from its earlier run
 * @param contract  what the worker must agree on with the rest of the cluster (model fingerprint, block size, KV
 *                  dtype and layout, protocol version); never null in a registered record
 * @param registeredMillis wall-clock time of its registration, set by the registry (0 before): the same for every
 *                  reader, so "registered first" orders workers alike on every gateway
 */
public record WorkerRecord(
        String workerId,
        WorkerRole role,
        String model,
        String nodeId,
        String host,
        int httpPort,
        int maxContext,
        WorkerLoad load,
        long heartbeatMillis,
        long epoch,
        ClusterContract contract,
        long registeredMillis) {

    private static final SecureRandom EPOCHS = new SecureRandom();

    /** A fresh random epoch, never 0 (0 means "not stated"). */
    public static long newEpoch() {
        long e;
        do {
            e = EPOCHS.nextLong();
        } while (e == 0);
        return e;
    }

    public String generateAddress() {
        return Addresses.generate(workerId);
    }

    public String controlAddress() {
        return Addresses.control(workerId);
    }

    public WorkerRecord withLoad(WorkerLoad newLoad, long now) {
        return new WorkerRecord(workerId, role, model, nodeId, host, httpPort, maxContext, newLoad, now, epoch, contract,
                registeredMillis);
    }
}
