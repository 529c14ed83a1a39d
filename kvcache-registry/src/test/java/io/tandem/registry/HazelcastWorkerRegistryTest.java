package io.tandem.registry;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.registry.WorkerEvent.Cause;
import io.tandem.registry.cluster.ClusterNode;
import io.tandem.registry.cluster.ClusterOptions;
import io.tandem.registry.cluster.HazelcastConfigs;
import io.tandem.registry.cluster.TandemCluster;
import io.vertx.core.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.tandem.registry.Workers.eventually;
import static io.tandem.registry.Workers.record;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Several clustered Vert.x nodes in this JVM, each with its own Hazelcast member on loopback. */
class HazelcastWorkerRegistryTest {
    static final RegistryOptions LEASE = RegistryOptions.withLease(2_000); // heartbeat 666 ms
    static final HazelcastConfigs.LoopbackCluster CLUSTER = HazelcastConfigs.newLoopbackCluster();
    static ClusterNode a;
    static ClusterNode b;
    static final List<WorkerEvent> seenByB = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startTwoNodes() {
        a = start(LEASE);
        b = start(LEASE);
        b.registry().onChange(seenByB::add);
    }

    @AfterAll
    static void stopNodes() {
        Future.join(a.close(), b.close()).await();
    }

    @BeforeEach
    void clearEvents() {
        seenByB.clear();
    }

    static ClusterNode start(RegistryOptions lease) {
        return TandemCluster.start(ClusterOptions.loopbackTest(CLUSTER, lease)).await();
    }

    boolean bSees(String id) {
        return b.registry().worker(id).isPresent();
    }

    Cause removalCauseSeenByB(String id) {
        return seenByB.stream().filter(e -> e instanceof WorkerEvent.Removed r && r.worker().workerId().equals(id))
                .map(e -> ((WorkerEvent.Removed) e).cause()).findFirst().orElse(null);
    }

    @Test
    void aRecordRegisteredOnOneNodeAppearsUpdatesAndLeavesOnAnother() {
        a.registry().register(record("a-1", "llama")).await();
        assertTrue(a.registry().worker("a-1").isPresent(), "visible on its own node as soon as register completes");
        eventually(10_000, () -> bSees("a-1"), () -> "a-1 never reached node B");
        WorkerRecord onB = b.registry().worker("a-1").orElseThrow();
        assertEquals(a.nodeId(), onB.nodeId());
        assertEquals(record("a-1", "llama").epoch(), onB.epoch());
        assertEquals(Workers.CONTRACT, onB.contract());
        assertEquals(a.registry().worker("a-1").orElseThrow().registeredMillis(), onB.registeredMillis());
        assertEquals(List.of("a-1"), b.registry().liveWorkers("llama").stream().map(WorkerRecord::workerId).toList());
        assertTrue(b.registry().liveModels().contains("llama"));

        WorkerLoad busy = new WorkerLoad(3, 1, 250, 1000);
        a.registry().reportLoad("a-1", busy);
        eventually(10_000, () -> b.registry().worker("a-1").map(w -> w.load().equals(busy)).orElse(false),
                () -> "load never reached node B: " + b.registry().worker("a-1"));
        // listeners run after the view changed: wait for the event rather than racing it
        eventually(10_000, () -> seenByB.stream().anyMatch(e -> e instanceof WorkerEvent.Updated u && u.worker().load().equals(busy)),
                () -> "no update event on B: " + seenByB);

        a.registry().deregister("a-1").await();
        assertFalse(a.registry().worker("a-1").isPresent());
        eventually(10_000, () -> !bSees("a-1"), () -> "a-1 still on node B after deregister");
        eventually(10_000, () -> removalCauseSeenByB("a-1") == Cause.DEREGISTERED, () -> "events on B: " + seenByB);
    }

    /** A worker of the previous release (record format 1, no contract) in the map is never taken for a live worker. */
    @Test
    void aRecordOfAnOlderFormatIsIgnored() {
        String v1 = "{\"v\":1,\"workerId\":\"old-1\",\"role\":\"BOTH\",\"model\":\"llama\",\"nodeId\":\"" + a.nodeId()
                + "\",\"host\":\"127.0.0.1\",\"httpPort\":8100,\"maxContext\":2048,\"heartbeatMillis\":" + System.currentTimeMillis()
                + ",\"leaseMillis\":2000}";
        a.hazelcast().getMap(LEASE.mapName()).set("old-1", new com.hazelcast.core.HazelcastJsonValue(v1));
        // a valid record written after it: once B has it, B has handled the old one too (or never will)
        a.registry().register(record("a-new", "llama")).await();
        eventually(10_000, () -> bSees("a-new"), () -> "a-new never reached node B");
        Workers.stays(500, () -> !bSees("old-1") && a.registry().worker("old-1").isEmpty(), () -> "the format-1 record was taken in");
        a.registry().deregister("a-new").await();
        a.hazelcast().getMap(LEASE.mapName()).delete("old-1");
    }

    @Test
    void aWorkerThatStopsHeartbeatingDisappearsWithinTheLease() throws Exception {
        // a hung worker: its context stops running (so do its heartbeats), its member stays
        Workers.Deployed w = Workers.deployRegistering(a.vertx(), a.registry(), record("a-hung", "llama"));
        eventually(10_000, () -> bSees("a-hung"), () -> "a-hung never reached node B");
        try (AutoCloseable hung = w.hang()) { // it recovers only once its expiry was seen everywhere
            // the bound is the behaviour (gone within about a lease), with slack for a loaded machine
            long gone = eventually(LEASE.leaseMillis() + 2_000, () -> !bSees("a-hung"), () -> "a-hung outlived its lease on B");
            assertTrue(gone >= LEASE.leaseMillis() - LEASE.heartbeatMillis() - 100, "dropped after only " + gone + " ms");
            eventually(10_000, () -> a.registry().worker("a-hung").isEmpty(), () -> "its own node keeps it");
            eventually(10_000, () -> removalCauseSeenByB("a-hung") == Cause.LEASE_EXPIRED, () -> "events on B: " + seenByB);
            eventually(10_000, () -> !b.hazelcast().getMap(LEASE.mapName()).containsKey("a-hung"),
                    () -> "the map entry outlived its time-to-live");
            assertTrue(b.hazelcast().getCluster().getMembers().size() >= 2, "A's member is still there");
        }
        eventually(10_000, () -> bSees("a-hung"), () -> "not back on B after its heartbeats resumed");
        a.vertx().undeploy(w.deploymentId()).await();
        eventually(10_000, () -> !bSees("a-hung"), () -> "undeploying the worker did not deregister it");
    }

    @Test
    void aLateJoiningNodeSeesExistingRecordsAtStart() {
        a.registry().register(record("a-early", "qwen")).await();
        eventually(10_000, () -> bSees("a-early"), () -> "a-early never reached node B");
        ClusterNode c = start(LEASE);
        try {
            assertTrue(c.registry().worker("a-early").isPresent(), "loaded at start, before any heartbeat");
            assertEquals(a.nodeId(), c.registry().worker("a-early").orElseThrow().nodeId());
            c.registry().register(record("c-1", "qwen")).await();
            eventually(10_000, () -> bSees("c-1"), () -> "c-1 never reached node B");
        } finally {
            c.vertx().close().await(); // a graceful leave: Vert.x closes the registry, which deregisters c-1
        }
        eventually(10_000, () -> !bSees("c-1"), () -> "c-1 still on B after its node closed");
        eventually(10_000, () -> removalCauseSeenByB("c-1") == Cause.DEREGISTERED, () -> "closing Vert.x deregistered first; events on B: " + seenByB);
        a.registry().deregister("a-early").await();
    }

    @Test
    void theWorkersOfACrashedMemberGoWhenTheMemberLeaves() {
        // a lease far longer than the wait below: only the member leaving can explain the removal
        ClusterNode d = start(new RegistryOptions(120_000, 10_000, 250, LEASE.mapName()));
        try {
            d.registry().register(record("d-1", "llama")).await();
            d.registry().register(record("d-2", "qwen")).await();
            eventually(10_000, () -> bSees("d-1") && bSees("d-2"), () -> "d's workers never reached node B");
            d.hazelcast().getLifecycleService().terminate(); // like SIGKILL: no goodbye
            long gone = eventually(10_000, () -> !bSees("d-1") && !bSees("d-2"), () -> "d's workers outlived their member");
            System.out.println("crashed member's workers left B's view after " + gone + " ms");
            // listeners are called on their own context, after the view changed: wait for the events
            eventually(10_000, () -> removalCauseSeenByB("d-1") == Cause.MEMBER_LEFT
                    && removalCauseSeenByB("d-2") == Cause.MEMBER_LEFT, () -> "events on B: " + seenByB);
            eventually(5_000, () -> !b.hazelcast().getMap(LEASE.mapName()).containsKey("d-1"),
                    () -> "the oldest member did not purge the records of the member that left");
        } finally {
            d.vertx().close().recover(e -> Future.succeededFuture()).await();
        }
    }
}
