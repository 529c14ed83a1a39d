package io.tandem.transfer.nixl;

import io.tandem.transfer.AgentIdentity;
import io.tandem.transfer.AgentMetadata;
import io.tandem.transfer.Await;
import io.tandem.transfer.BackendAvailability;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.RegisteredRegion;
import io.tandem.transfer.TransferAgent;
import io.tandem.transfer.TransferAgents;
import io.tandem.transfer.TransferConfig;
import io.tandem.transfer.TransferContext;
import io.tandem.transfer.TransferException;
import io.tandem.transfer.TransferOp;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Two NIXL backends in this JVM (two NIXL agents over UCX): the bytes, the notifications, and the refusals. */
class NixlBackendTest {
    private static final long MIB = 1 << 20;

    private Vertx vertx;
    private WorkerExecutor pool;
    private Arena arena;
    private final List<NixlBackend> backends = new ArrayList<>();

    @BeforeEach
    void start() {
        assumeTrue(BackendAvailability.unavailable("nixl").isEmpty(), () -> "nixl: " + BackendAvailability.unavailable("nixl").orElse(""));
        vertx = Vertx.vertx();
        pool = vertx.createSharedWorkerExecutor(TransferConfig.NATIVE_POOL_NAME, 2);
        arena = Arena.ofShared();
    }

    @AfterEach
    void stop() throws Exception {
        for (NixlBackend b : backends) b.close();
        if (arena != null) arena.close();
        if (vertx != null) vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private record Side(NixlBackend backend, String name, AgentIdentity identity, MemorySegment memory) {
        AgentMetadata metadata() {
            return new AgentMetadata(name, "host", "127.0.0.1", 1, List.of(), Map.of("nixl", backend.payload()), identity);
        }
    }

    private Side side(String name, long bytes, int seed) {
        AgentIdentity id = AgentIdentity.of(name, null);
        NixlBackend b = new NixlBackend(new TransferContext(TransferConfig.of("nixl", name).withIdentity(id)
                .withTimeout(Duration.ofSeconds(20)), vertx, pool));
        backends.add(b);
        MemorySegment m = arena.allocate(bytes, 4096);
        for (long i = 0; i < bytes; i++) m.set(ValueLayout.JAVA_BYTE, i, (byte) (i * 31 + seed));
        b.register(new RegisteredRegion(0, "r", m, null));
        return new Side(b, name, id, m);
    }

    private static CompletableFuture<Void> move(Side from, TransferOp op, Side to, long[][] pairs) {
        List<MemoryDescriptor> local = new ArrayList<>(), remote = new ArrayList<>();
        List<MemorySegment> slices = new ArrayList<>();
        for (long[] p : pairs) {
            local.add(new MemoryDescriptor(0, p[0], p[2]));
            remote.add(new MemoryDescriptor(0, p[1], p[2]));
            slices.add(from.memory.asSlice(p[0], p[2]));
        }
        return from.backend.transfer(op, local, slices, to.metadata(), remote);
    }

    private static boolean same(MemorySegment a, long at, MemorySegment b, long bt, long n) {
        return a.asSlice(at, n).mismatch(b.asSlice(bt, n)) == -1;
    }

    @Test
    void writesAndReadsLandIntactAndEachCompletedTransferNotifiesThePeer() throws Exception {
        Side a = side("nixl-a", 16 * MIB, 1), b = side("nixl-b", 16 * MIB, 2);
        a.backend.loadPeer(b.metadata());
        long[][] pairs = {{1, 7, 1}, {3, 4099, 4097}, {10_000, MIB + 3, 3 * MIB + 5}, {8 * MIB + 1, 12 * MIB - 11, 4 * MIB}};
        move(a, TransferOp.WRITE, b, pairs).get(30, TimeUnit.SECONDS);
        for (long[] p : pairs) assertTrue(same(a.memory, p[0], b.memory, p[1], p[2]), "WRITE of " + p[2] + " bytes");

        // READ back into other places of a
        long[][] back = {{5 * MIB, 7, 1}, {6 * MIB, MIB + 3, 3 * MIB + 5}};
        move(a, TransferOp.READ, b, back).get(30, TimeUnit.SECONDS);
        assertTrue(same(a.memory, 5 * MIB, b.memory, 7, 1));
        assertTrue(same(a.memory, 6 * MIB, b.memory, MIB + 3, 3 * MIB + 5));

        // each completed request left one NIXL notification at b, and b drains them (nothing stays in NIXL)
        Await.until(() -> b.backend.notificationsFrom("nixl-a") == 2, "b counted a's two notifications");
        assertEquals(0, b.backend.drainNotifications());
        assertEquals(0, a.backend.notificationsFrom("nixl-b"), "b made no transfer");

        // and the other way round, after b loads a
        b.backend.loadPeer(a.metadata());
        move(b, TransferOp.WRITE, a, new long[][]{{0, 0, MIB}}).get(30, TimeUnit.SECONDS);
        assertTrue(same(b.memory, 0, a.memory, 0, MIB));
        Await.until(() -> a.backend.notificationsFrom("nixl-b") == 1, "a counted b's notification");
    }

    @Test
    void badDescriptorsUnknownPeersAndForgottenPeersFailAtOnce() throws Exception {
        Side a = side("bad-a", MIB, 1), b = side("bad-b", MIB, 2);
        assertFails(move(a, TransferOp.WRITE, b, new long[][]{{0, 0, 16}}), "nixl has not loaded peer bad-b");
        a.backend.loadPeer(b.metadata());
        assertFails(move(a, TransferOp.WRITE, b, new long[][]{{0, MIB - 8, 16}}), "ends past region 0");
        List<MemoryDescriptor> d = List.of(new MemoryDescriptor(3, 0, 16));
        assertFails(a.backend.transfer(TransferOp.WRITE, d, List.of(a.memory.asSlice(0, 16)), b.metadata(), d), "no nixl region 3");
        move(a, TransferOp.WRITE, b, new long[][]{{0, 0, 16}}).get(30, TimeUnit.SECONDS);
        a.backend.forgetPeer("bad-b");
        assertFails(move(a, TransferOp.WRITE, b, new long[][]{{0, 0, 16}}), "nixl has not loaded peer bad-b");
        a.backend.loadPeer(b.metadata()); // and back
        move(a, TransferOp.READ, b, new long[][]{{0, 0, 16}}).get(30, TimeUnit.SECONDS);
    }

    @Test
    void metadataOfAnotherIncarnationIsRefused() {
        Side a = side("inc-a", MIB, 1), b = side("inc-b", MIB, 2);
        AgentMetadata lying = new AgentMetadata("inc-b", "host", "127.0.0.1", 1, List.of(), Map.of("nixl", b.backend.payload()),
                new AgentIdentity("inc-b", null, b.identity.epoch() + 1));
        TransferException e = assertThrows(TransferException.class, () -> a.backend.loadPeer(lying));
        assertTrue(e.getMessage().contains("names NIXL agent inc-b@"), e.getMessage());
    }

    @Test
    void aClosedBackendRefusesTransfers() throws Exception {
        Side a = side("closed-a", MIB, 1), b = side("closed-b", MIB, 2);
        a.backend.loadPeer(b.metadata());
        a.backend.close();
        assertFails(move(a, TransferOp.WRITE, b, new long[][]{{0, 0, 16}}), "closed");
    }

    /**
     * The agent creates its backends on its pool: with one pool thread (a Vert.x instance of its own, so the named
     * pool is created with that size), the backend's calls from that thread must run inline, not wait for the pool.
     */
    @Test
    void anAgentWithASinglePoolThreadWorks() throws Exception {
        Vertx own = Vertx.vertx();
        try (TransferAgent a = open(own, "single-a"); TransferAgent b = open(own, "single-b")) {
            MemorySegment from = a.register("r", MIB).memory(), to = b.register("r", MIB).memory();
            from.fill((byte) 9);
            assertEquals("nixl", a.loadPeer(b.metadata()));
            List<MemoryDescriptor> d = List.of(new MemoryDescriptor(0, 0, MIB));
            a.post(TransferOp.WRITE, d, b.name(), d, null).completion().get(30, TimeUnit.SECONDS);
            assertEquals(-1, from.mismatch(to));
        } finally {
            own.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private static TransferAgent open(Vertx vertx, String name) throws Exception {
        return TransferAgents.open(vertx, TransferConfig.of("nixl", name).withNativePoolSize(1).withTimeout(Duration.ofSeconds(5)))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private static void assertFails(CompletableFuture<Void> f, String message) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(30, TimeUnit.SECONDS));
        assertInstanceOf(TransferException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains(message), e.getCause().getMessage());
    }
}
