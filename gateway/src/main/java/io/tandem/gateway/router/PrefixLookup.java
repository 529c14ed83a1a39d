package io.tandem.gateway.router;

import io.tandem.registry.kv.ApproxKvIndexer;
import io.tandem.registry.kv.KvIndex;

import java.util.HashMap;
import java.util.Map;

/**
 * How much of a prompt's prefix each worker holds: what the workers' KV events say (the {@link KvIndex}), merged
 * with the router's own predictions (an {@link ApproxKvIndexer}: every routed prompt is assumed cached on its worker
 * for the indexer's TTL). A worker's cached prefix is the longer of the two. The predictions cover the lag between
 * routing a turn and its KV events arriving (the next turn of a conversation often comes sooner), and are all there
 * is for workers that publish no events.
 *
 * @param events      the index the KV events feed; null when nothing feeds one (the non-KV modes may run without)
 * @param predictions the routing predictions; null to route on events alone
 */
public record PrefixLookup(KvIndex events, ApproxKvIndexer predictions) {

    /** No index and no predictions: every worker has nothing cached. */
    public static final PrefixLookup NONE = new PrefixLookup(null, null);

    /** Cached prefix blocks per worker holding any of {@code blockHashes} (workers holding none are absent). */
    public Map<String, Integer> cachedBlocks(long[] blockHashes) {
        if (blockHashes.length == 0) return Map.of();
        Map<String, Integer> cached = events == null ? Map.of() : events.prefixBlocks(blockHashes);
        if (predictions == null) return cached;
        Map<String, Integer> merged = new HashMap<>(cached);
        predictions.index().prefixBlocks(blockHashes).forEach((w, n) -> merged.merge(w, n, Math::max));
        return merged;
    }

    /** Cached prefix blocks per worker by the KV events alone (what the workers themselves reported). */
    public Map<String, Integer> reportedBlocks(long[] blockHashes) {
        return events == null || blockHashes.length == 0 ? Map.of() : events.prefixBlocks(blockHashes);
    }

    /** The router sent a prompt with these full-block hashes to {@code workerId}: predict it cached there. */
    public void routed(String workerId, long[] blockHashes) {
        if (predictions != null) predictions.routed(workerId, blockHashes);
    }
}
