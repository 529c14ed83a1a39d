package io.tandem.registry.kv;

import io.tandem.protocol.kv.KvEvent;
import io.tandem.protocol.kv.KvEventBatch;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Batches delivered late, twice, out of order or not at all still lead to the worker's exact
 * block set: the feed notices the gap, asks for a resync, and the worker's snapshot repairs the index.
 */
class KvIndexFeedPropertiesTest {

    /** A worker's engine: random stores, evictions and clears, numbered batches, and snapshots on request. */
    static final class FakeWorker {
        final String id;
        final Random rnd;
        final KvMirror truth;
        long seq = -1;

        FakeWorker(String id, long seed) {
            this.id = id;
            this.rnd = new Random(seed);
            this.truth = new KvMirror(id);
        }

        KvEventBatch nextBatch() {
            List<KvEvent> events = new ArrayList<>();
            Set<Long> held = held();
            int n = 1 + rnd.nextInt(3);
            for (int i = 0; i < n; i++) {
                int kind = rnd.nextInt(20);
                if (kind == 0) {
                    events.add(new KvEvent.AllBlocksCleared());
                    held.clear();
                } else if (kind < 6 && !held.isEmpty()) {
                    long h = held.stream().skip(rnd.nextInt(held.size())).findFirst().orElseThrow();
                    held.remove(h);
                    events.add(new KvEvent.BlocksRemoved(new long[] {h}));
                } else {
                    long h = 1 + rnd.nextInt(200);
                    if (held.add(h)) events.add(new KvEvent.BlocksStored(new long[] {h}, 0));
                }
            }
            KvEventBatch b = new KvEventBatch(id, ++seq, 0, events);
            truth.apply(b);
            return b;
        }

        /** What the engine publishes when asked to resync: a clear and every cached block, as the next batch. */
        KvEventBatch snapshotBatch() {
            KvEventBatch s = truth.snapshot(0);
            KvEventBatch b = new KvEventBatch(id, ++seq, 0, s.events());
            truth.apply(b);
            return b;
        }

        Set<Long> held() {
            Set<Long> out = new HashSet<>();
            for (long h : truthHashes()) out.add(h);
            return out;
        }

        long[] truthHashes() {
            KvEventBatch s = truth.snapshot(0);
            return s.events().stream().filter(e -> e instanceof KvEvent.BlocksStored)
                    .mapToLong(e -> ((KvEvent.BlocksStored) e).hash(0)).toArray();
        }
    }

    @Property(tries = 300)
    void unreliableDeliveryConvergesAfterResync(@ForAll @IntRange(min = 1, max = 60) int batches, @ForAll long seed,
                                                @ForAll @IntRange(min = 0, max = 3) int chaos) {
        Random rnd = new Random(seed);
        FakeWorker worker = new FakeWorker("w", seed);
        List<String> resyncs = new ArrayList<>();
        KvIndexFeed feed = new KvIndexFeed(new KvIndex(), resyncs::add, 0);
        List<KvEventBatch> sent = new ArrayList<>();
        for (int i = 0; i < batches; i++) sent.add(worker.nextBatch());
        List<KvEventBatch> delivered = new ArrayList<>();
        for (KvEventBatch b : sent) {
            int r = rnd.nextInt(10);
            if (chaos > 0 && r == 0) continue;                   // lost
            delivered.add(b);
            if (chaos > 1 && r == 1) delivered.add(b);           // duplicated
        }
        if (chaos > 2) Collections.shuffle(delivered.subList(0, delivered.size() / 2), rnd); // reordered
        for (KvEventBatch b : delivered) feed.onBatch(b);
        // the worker goes on: its next batch reveals any trailing loss; resync requests get a snapshot
        feed.onBatch(worker.nextBatch());
        if (!resyncs.isEmpty()) feed.onBatch(worker.snapshotBatch());
        long[] expected = worker.truthHashes();
        long[] actual = feed.index().blocksOf("w");
        Arrays.sort(expected);
        Arrays.sort(actual);
        assertEquals(Arrays.toString(expected), Arrays.toString(actual));
        if (chaos == 0) assertEquals(List.of(), resyncs, "in-order delivery needs no resync");
    }

    @Test
    void aGatewayStartingLateLoadsTheSnapshotThenFollowsTheStream() {
        FakeWorker worker = new FakeWorker("w", 3);
        for (int i = 0; i < 30; i++) worker.nextBatch();
        List<String> resyncs = new ArrayList<>();
        KvIndexFeed feed = new KvIndexFeed(new KvIndex(), resyncs::add, 0);
        assertEquals(KvIndexFeed.Outcome.SNAPSHOT, feed.onBatch(worker.truth.snapshot(0))); // from the registry map
        assertEquals(KvIndexFeed.Outcome.APPLIED, feed.onBatch(worker.nextBatch()));
        assertEquals(List.of(), resyncs);
        long[] expected = worker.truthHashes(), actual = feed.index().blocksOf("w");
        Arrays.sort(expected);
        Arrays.sort(actual);
        assertEquals(Arrays.toString(expected), Arrays.toString(actual));
    }
}
