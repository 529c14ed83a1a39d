package io.tandem.protocol;

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
        long heartbeatMillis) {

    public String generateAddress() {
        return Addresses.generate(workerId);
    }

    public String controlAddress() {
        return Addresses.control(workerId);
    }

    public WorkerRecord withLoad(WorkerLoad newLoad, long now) {
        return new WorkerRecord(workerId, role, model, nodeId, host, httpPort, maxContext, newLoad, now);
    }
}
