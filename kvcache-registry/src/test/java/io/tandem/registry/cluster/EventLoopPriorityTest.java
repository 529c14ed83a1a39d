package io.tandem.registry.cluster;

import io.netty.util.concurrent.EventExecutor;
import io.tandem.platform.LinuxThreads;
import io.tandem.platform.RealTimeEventLoops;
import io.tandem.registry.RegistryOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Tandem's event loops run in {@code SCHED_FIFO} where Linux permits it, and only they: threads they start (the
 * blocking pool's, an engine's) and {@code --event-loop-priority normal} stay in the fair scheduler.
 */
class EventLoopPriorityTest {
    @Test
    void realtimePutsEveryEventLoopInSchedFifoAndLeavesTheBlockingPoolAlone() {
        assumeTrue(LinuxThreads.fifoPermitted(1), "this process may not use real-time scheduling");
        Vertx vertx = NetworkTransport.builder(new VertxOptions().setEventLoopPoolSize(3), EventLoopPriority.REALTIME)
                .build();
        try {
            assertTrue(RealTimeEventLoops.present(), "announced by the time build() returns, for the compute threads");
            assertEquals(List.of(LinuxThreads.SCHED_FIFO, LinuxThreads.SCHED_FIFO, LinuxThreads.SCHED_FIFO),
                    policiesOfEventLoops(vertx, 3));
            EventExecutor loop = ((VertxInternal) vertx).nettyEventLoopGroup().next();
            int started = CompletableFuture.supplyAsync(EventLoopPriorityTest::policyOfAThreadStartedHere, loop)
                    .orTimeout(10, TimeUnit.SECONDS).join();
            assertEquals(LinuxThreads.SCHED_OTHER, started, "a thread an event loop starts is not real-time");
            int blocking = CompletableFuture.supplyAsync(() -> vertx.executeBlocking(LinuxThreads::policy), loop)
                    .thenCompose(f -> f.toCompletionStage()).orTimeout(10, TimeUnit.SECONDS).join();
            assertEquals(LinuxThreads.SCHED_OTHER, blocking, "the blocking pool, started from an event loop");
        } finally {
            vertx.close().await();
        }
    }

    @Test
    void normalLeavesTheEventLoopsInTheFairScheduler() {
        assumeTrue(LinuxThreads.policy() >= 0, "sched_getscheduler unavailable");
        Vertx vertx = NetworkTransport.builder(new VertxOptions().setEventLoopPoolSize(2), EventLoopPriority.NORMAL)
                .build();
        try {
            assertEquals(List.of(LinuxThreads.SCHED_OTHER, LinuxThreads.SCHED_OTHER), policiesOfEventLoops(vertx, 2));
        } finally {
            vertx.close().await();
        }
    }

    /** A worker or gateway that joins the cluster gets its event loops scheduled too. */
    @Test
    void aClusteredVertxGetsRealtimeEventLoops() {
        assumeTrue(LinuxThreads.fifoPermitted(1), "this process may not use real-time scheduling");
        HazelcastConfigs.LoopbackCluster cluster = HazelcastConfigs.newLoopbackCluster();
        ClusterOptions options = ClusterOptions.loopbackTest(cluster, RegistryOptions.defaults())
                .withVertxOptions(new VertxOptions().setEventLoopPoolSize(2));
        ClusterNode node = TandemCluster.start(options).await();
        try {
            assertEquals(EventLoopPriority.REALTIME, options.eventLoops(), "the default");
            assertEquals(List.of(LinuxThreads.SCHED_FIFO, LinuxThreads.SCHED_FIFO), policiesOfEventLoops(node.vertx(), 2));
        } finally {
            node.close().await();
        }
    }

    @Test
    void theFlagsValuesParseAndAnythingElseIsNamed() {
        assertEquals(EventLoopPriority.REALTIME, EventLoopPriority.parse("realtime"));
        assertEquals(EventLoopPriority.NORMAL, EventLoopPriority.parse(" Normal "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EventLoopPriority.parse("rt"));
        assertEquals("expected realtime or normal, got 'rt'", e.getMessage());
    }

    /**
     * The policy of each event loop of {@code vertx}, read on the loop by a task submitted after the Vert.x was built
     * (each loop runs the priority's task first); there must be {@code loops} of them.
     */
    private static List<Integer> policiesOfEventLoops(Vertx vertx, int loops) {
        List<CompletableFuture<Integer>> seen = new ArrayList<>();
        for (EventExecutor loop : ((VertxInternal) vertx).nettyEventLoopGroup()) {
            seen.add(CompletableFuture.supplyAsync(LinuxThreads::policy, loop));
        }
        assertEquals(loops, seen.size(), "event loops");
        return seen.stream().map(f -> f.orTimeout(10, TimeUnit.SECONDS).join()).toList();
    }

    private static int policyOfAThreadStartedHere() {
        int[] policy = {-1};
        Thread t = Thread.ofPlatform().start(() -> policy[0] = LinuxThreads.policy());
        try {
            t.join();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
        return policy[0];
    }
}
