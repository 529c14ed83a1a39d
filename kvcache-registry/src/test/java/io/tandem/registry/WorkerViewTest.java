package io.tandem.registry;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.registry.WorkerEvent.Cause;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.tandem.registry.Workers.record;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerViewTest {
    static final long LEASE = 1_000;
    final WorkerView view = new WorkerView(LEASE);

    @Test
    void addThenUpdateThenPlainRefreshEmitsOnlyRealChanges() {
        WorkerRecord w = record("w1", "m", "n1", 100);
        assertEquals(List.of(new WorkerEvent.Added(w)), view.upsert(w, 0, 0));
        WorkerRecord busy = w.withLoad(new WorkerLoad(3, 1, 40, 100), 101);
        assertEquals(List.of(new WorkerEvent.Updated(busy)), view.upsert(busy, 10, 0));
        WorkerRecord refresh = busy.withLoad(busy.load(), 102);
        assertEquals(List.of(), view.upsert(refresh, 20, 0), "a heartbeat that changes nothing else is silent");
        assertEquals(List.of(refresh), view.all(), "but the view holds the latest heartbeat");
    }

    @Test
    void anOlderWriteThanTheHeldOneIsIgnored() {
        WorkerRecord newer = record("w1", "m", "n1", 200).withLoad(new WorkerLoad(5, 0, 0, 0), 200);
        view.upsert(newer, 0, 0);
        assertEquals(List.of(), view.upsert(record("w1", "m", "n1", 150), 1, 0));
        assertEquals(List.of(newer), view.all());
    }

    @Test
    void aLateHeartbeatCannotResurrectARemovedWorker() {
        WorkerRecord w = record("w1", "m", "n1", 100);
        view.upsert(w, 0, 0);
        assertEquals(List.of(new WorkerEvent.Removed(w, Cause.DEREGISTERED)), view.remove("w1", 100, Cause.DEREGISTERED, 5));
        assertEquals(List.of(), view.upsert(w, 6, 0), "the same write arriving late");
        assertEquals(List.of(), view.all());
        WorkerRecord again = record("w1", "m", "n1", 101);
        assertEquals(List.of(new WorkerEvent.Added(again)), view.upsert(again, 7, 0), "a newer registration is welcome");
    }

    @Test
    void aRemovalArrivingBeforeItsRecordStillBlocksIt() {
        assertEquals(List.of(), view.remove("w1", 100, Cause.DEREGISTERED, 0));
        assertEquals(List.of(), view.upsert(record("w1", "m", "n1", 100), 1, 0));
        assertTrue(view.all().isEmpty());
    }

    @Test
    void aRemovalOfAnOlderIncarnationKeepsTheNewerOne() {
        WorkerRecord newer = record("w1", "m", "n1", 300);
        view.upsert(newer, 0, 0);
        assertEquals(List.of(), view.remove("w1", 200, Cause.LEASE_EXPIRED, 1));
        assertEquals(List.of(newer), view.all());
    }

    @Test
    void entriesExpireOneLeaseAfterTheirLastRefresh() {
        view.upsert(record("w1", "m", "n1", 1), 0, 0);
        view.upsert(record("w2", "m", "n1", 1), 0, 0);
        view.upsert(record("w2", "m", "n1", 2), 600, 0);
        assertEquals(List.of(), view.expire(999));
        List<WorkerEvent> events = view.expire(1_000);
        assertEquals(List.of(new WorkerEvent.Removed(record("w1", "m", "n1", 1), Cause.LEASE_EXPIRED)), events);
        assertEquals(List.of("w2"), view.all().stream().map(WorkerRecord::workerId).toList());
        assertEquals(1, view.expire(1_600).size());
        assertTrue(view.all().isEmpty());
    }

    @Test
    void aLoadedRecordKeepsOnlyWhatIsLeftOfItsLease() {
        view.upsert(record("old", "m", "n1", 1), 0, 700);
        assertEquals(List.of(), view.upsert(record("dead", "m", "n1", 1), 0, 5_000), "older than a lease: never shown");
        assertEquals(1, view.all().size());
        assertEquals(1, view.expire(300).size());
    }

    @Test
    void removeIfDropsEveryWorkerOfAMember() {
        view.upsert(record("a1", "m", "A", 1), 0, 0);
        view.upsert(record("a2", "x", "A", 1), 0, 0);
        view.upsert(record("b1", "m", "B", 1), 0, 0);
        List<WorkerEvent> events = view.removeIf(r -> r.nodeId().equals("A"), Cause.MEMBER_LEFT, 1);
        assertEquals(Set.of("a1", "a2"), Set.copyOf(events.stream().map(e -> e.worker().workerId()).toList()));
        assertTrue(events.stream().allMatch(e -> e instanceof WorkerEvent.Removed r && r.cause() == Cause.MEMBER_LEFT));
        assertEquals(List.of(), view.upsert(record("a1", "m", "A", 1), 2, 0), "its last heartbeat arriving late");
        assertEquals(List.of("b1"), view.all().stream().map(WorkerRecord::workerId).toList());
    }

    @Test
    void readsAreSortedPerModelAndImmutable() {
        view.upsert(record("w3", "llama", "n", 1), 0, 0);
        view.upsert(record("w1", "qwen", "n", 1), 0, 0);
        view.upsert(record("w2", "llama", "n", 1), 0, 0);
        assertEquals(List.of("w1", "w2", "w3"), view.all().stream().map(WorkerRecord::workerId).toList());
        assertEquals(List.of("w2", "w3"), view.ofModel("llama").stream().map(WorkerRecord::workerId).toList());
        assertEquals(List.of(), view.ofModel("nope"));
        assertEquals(List.of("llama", "qwen"), List.copyOf(view.models()));
        assertEquals("qwen", view.get("w1").orElseThrow().model());
        assertThrows(UnsupportedOperationException.class, () -> view.all().clear());
        assertThrows(UnsupportedOperationException.class, () -> view.ofModel("llama").clear());
        List<WorkerRecord> before = view.ofModel("llama");
        view.remove("w2", WorkerView.ANY, Cause.DEREGISTERED, 1);
        assertEquals(2, before.size(), "a snapshot already handed out does not change under the reader");
        assertEquals(List.of("w3"), view.ofModel("llama").stream().map(WorkerRecord::workerId).toList());
    }
}
