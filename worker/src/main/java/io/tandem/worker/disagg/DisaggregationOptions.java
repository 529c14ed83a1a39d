package io.tandem.worker.disagg;

import java.nio.file.Path;

/**
 * How a worker splits prefill from decode.
 *
 * @param transfer              transfer backend: tcp, shm, ucx, nixl or auto (per peer: shm on the same host, else ucx, else tcp)
 * @param maxLocalPrefillTokens a decode worker prefills remotely only when more prompt tokens than this are uncached
 * @param maxPrefillQueue       a prefill worker takes at most this many remote prefills at once; a decode worker
 *                              does not send to one that reports this many queued
 * @param prefillTimeoutMillis  a remote prefill not answered by then is abandoned: the decode worker prefills locally
 * @param transferThreads       threads of the transfer agent's named worker pool (blocking and native calls)
 * @param layerwise             a prefill worker sends each layer's KV as soon as it is computed (overlapping transfer
 *                              with the later layers); false sends everything after the last layer (for comparison)
 * @param nixlHome              where NIXL is installed ({@code --nixl-home}), or null: {@code $TANDEM_NIXL_HOME}, else
 *                              the library path (a process setting: NIXL loads once per process)
 */
public record DisaggregationOptions(String transfer, int maxLocalPrefillTokens, int maxPrefillQueue,
                                    long prefillTimeoutMillis, int transferThreads, boolean layerwise, Path nixlHome) {

    public static final DisaggregationOptions DEFAULTS = new DisaggregationOptions("auto", 128, 8, 30_000, 2, true);

    /** Without a NIXL home of its own. */
    public DisaggregationOptions(String transfer, int maxLocalPrefillTokens, int maxPrefillQueue, long prefillTimeoutMillis,
                                 int transferThreads, boolean layerwise) {
        this(transfer, maxLocalPrefillTokens, maxPrefillQueue, prefillTimeoutMillis, transferThreads, layerwise, null);
    }

    public DisaggregationOptions {
        if (!java.util.Set.of("tcp", "shm", "ucx", "nixl", "auto").contains(transfer)) {
            throw new IllegalArgumentException("--transfer must be tcp, shm, ucx, nixl or auto, got '" + transfer + "'");
        }
        if (maxLocalPrefillTokens < 0) throw new IllegalArgumentException("--max-local-prefill-tokens must be >= 0");
        if (maxPrefillQueue < 1) throw new IllegalArgumentException("--max-prefill-queue must be >= 1");
        if (prefillTimeoutMillis < 1) throw new IllegalArgumentException("prefill timeout must be >= 1 ms");
        if (transferThreads < 1) throw new IllegalArgumentException("--transfer-threads must be >= 1");
    }

    public DisaggregationOptions withTransfer(String backend) {
        return new DisaggregationOptions(backend, maxLocalPrefillTokens, maxPrefillQueue, prefillTimeoutMillis,
                transferThreads, layerwise, nixlHome);
    }

    public DisaggregationOptions withMaxLocalPrefillTokens(int tokens) {
        return new DisaggregationOptions(transfer, tokens, maxPrefillQueue, prefillTimeoutMillis,
                transferThreads, layerwise, nixlHome);
    }

    public DisaggregationOptions withMaxPrefillQueue(int n) {
        return new DisaggregationOptions(transfer, maxLocalPrefillTokens, n, prefillTimeoutMillis,
                transferThreads, layerwise, nixlHome);
    }

    public DisaggregationOptions withTransferThreads(int threads) {
        return new DisaggregationOptions(transfer, maxLocalPrefillTokens, maxPrefillQueue, prefillTimeoutMillis,
                threads, layerwise, nixlHome);
    }

    public DisaggregationOptions withLayerwise(boolean on) {
        return new DisaggregationOptions(transfer, maxLocalPrefillTokens, maxPrefillQueue, prefillTimeoutMillis,
                transferThreads, on, nixlHome);
    }

    public DisaggregationOptions withNixlHome(Path home) {
        return new DisaggregationOptions(transfer, maxLocalPrefillTokens, maxPrefillQueue, prefillTimeoutMillis,
                transferThreads, layerwise, home);
    }

    public DisaggregationOptions withPrefillTimeoutMillis(long millis) {
        return new DisaggregationOptions(transfer, maxLocalPrefillTokens, maxPrefillQueue, millis,
                transferThreads, layerwise, nixlHome);
    }
}
