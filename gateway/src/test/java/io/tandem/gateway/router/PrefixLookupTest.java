package io.tandem.gateway.router;

import io.tandem.protocol.kv.KvEvent;
import io.tandem.registry.kv.ApproxKvIndexer;
import io.tandem.registry.kv.KvIndex;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class PrefixLookupTest {
    private static final long[] PROMPT = {11, 12, 13, 14};

    @Test
    void aWorkersPrefixIsTheLongerOfItsEventsAndThePredictions() {
        KvIndex events = new KvIndex();
        events.apply("a", new KvEvent.BlocksStored(new long[] {11, 12, 13}, 0));
        events.apply("b", new KvEvent.BlocksStored(new long[] {11}, 0));
        PrefixLookup lookup = new PrefixLookup(events, new ApproxKvIndexer(new KvIndex(), 10_000, () -> 0));
        lookup.routed("b", new long[] {11, 12});
        lookup.routed("c", new long[] {11});
        assertEquals(Map.of("a", 3, "b", 2, "c", 1), lookup.cachedBlocks(PROMPT));
        assertEquals(Map.of("a", 3, "b", 1), lookup.reportedBlocks(PROMPT), "the events alone");
    }

    @Test
    void predictionsExpireWithTheirIndexer() {
        AtomicLong now = new AtomicLong(0);
        ApproxKvIndexer approx = new ApproxKvIndexer(new KvIndex(), 1_000, now::get);
        PrefixLookup lookup = new PrefixLookup(new KvIndex(), approx);
        lookup.routed("a", PROMPT);
        assertEquals(Map.of("a", 4), lookup.cachedBlocks(PROMPT));
        now.set(1_001);
        approx.expire();
        assertEquals(Map.of(), lookup.cachedBlocks(PROMPT));
    }

    @Test
    void withoutIndexOrPromptNothingIsCached() {
        PrefixLookup.NONE.routed("a", PROMPT); // nowhere to record it: ignored
        assertEquals(Map.of(), PrefixLookup.NONE.cachedBlocks(PROMPT));
        KvIndex events = new KvIndex();
        events.apply("a", new KvEvent.BlocksStored(PROMPT, 0));
        assertEquals(Map.of(), new PrefixLookup(events, null).cachedBlocks(new long[0]));
        assertEquals(Map.of("a", 4), new PrefixLookup(events, null).cachedBlocks(PROMPT));
    }
}
