package io.tandem.registry.kv;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ApproxKvIndexerTest {

    @Test
    void aRoutedPrefixCountsAsCachedUntilItsTtlRunsOutAndUseRefreshesIt() {
        long[] now = {0};
        KvIndex index = new KvIndex();
        ApproxKvIndexer approx = new ApproxKvIndexer(index, 1_000, () -> now[0]);
        approx.routed("a", new long[] {1, 2, 3});
        approx.routed("b", new long[] {1});
        assertEquals(Map.of("a", 3, "b", 1), index.prefixBlocks(new long[] {1, 2, 3}));
        now[0] = 800;
        approx.routed("a", new long[] {1, 2}); // the conversation came back: its first two blocks stay longer
        now[0] = 1_000;
        approx.expire();
        assertEquals(Map.of("a", 2), index.prefixBlocks(new long[] {1, 2, 3}), "b's block and a's third block expired");
        now[0] = 1_800;
        approx.expire();
        assertEquals(Map.of(), index.prefixBlocks(new long[] {1, 2, 3}));
        assertEquals(0, index.size());
    }
}
