package io.tandem.gateway.soak;

/**
 * One process at rest, right after a forced full GC.
 *
 * @param heapAfterGcBytes heap in use after the GC ({@code jvm_gc_live_data_size_bytes}, else the heap pools' sum)
 * @param liveThreads      {@code jvm_threads_live_threads}, its lowest reading over a few seconds (pools come and go)
 * @param threadGroups     its Java threads by name pattern ({@link ThreadNames}), empty when no dump was taken
 * @param kv               a worker's KV blocks, null for the gateway
 */
public record ProcessSample(double heapAfterGcBytes, int liveThreads, java.util.Map<String, Integer> threadGroups, KvBlocks kv) {
    /**
     * @param active blocks held by requests ({@code tandem_worker_active_blocks})
     * @param free   blocks an allocation could take ({@code tandem_worker_free_blocks}), -1 when not reported
     */
    public record KvBlocks(int active, int free) {}
}
