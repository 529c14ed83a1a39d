package io.tandem.transfer;

import io.tandem.transfer.agent.AgentInternals;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.tandem.transfer.Agents.d;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Fenced writes, enforced by the receiver on each backend (ucx through the agent's leases, with no fence code of its
 * own; skipped while UCX is unavailable): granted writes land, a write after revoke is dropped and
 * counted and leaves the target bytes as they were, revoke waits for a write in flight.
 */
class FencingTest {
    private static final int KIB = 1024, MIB = 1 << 20;
    private static Vertx vertx, vertx2;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        vertx2 = Vertx.vertx(); // the receiver: its event loops stay free while a sender's test hook holds one
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx2.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static TransferAgent open(Vertx v, String backend, String name, boolean requireFences) throws Exception {
        return Agents.open(v, backend, name, c -> c.withSecret(PeerProcess.secret()).withRequireFences(requireFences));
    }

    private static void write(TransferAgent from, TransferAgent to, long offset, long length, long fence) throws Exception {
        from.post(TransferOp.WRITE, List.of(d(0, offset, length)), to.name(), List.of(d(0, offset, length)), "n".getBytes(), fence)
                .completion().get(20, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "shm", "ucx", "nixl"})
    void grantedWritesLandAndWritesAfterRevokeAreDropped(String backend) throws Exception {
        assumeTrue(BackendAvailability.unavailable(backend).isEmpty(), () -> backend + ": " + BackendAvailability.unavailable(backend));
        try (TransferAgent a = open(vertx, backend, "fence-a-" + backend, false);
             TransferAgent b = open(vertx2, backend, "fence-b-" + backend, false)) {
            MemorySegment src = a.register("kv", 4 * MIB).memory(), dst = b.register("kv", 4 * MIB).memory();
            assertEquals(backend, a.loadPeer(b.metadata()));
            b.fences().grant(42, List.of(d(0, 0, 64 * KIB), d(0, 64 * KIB, 64 * KIB), d(0, 2 * MIB, MIB)));

            Patterns.fill(src, 1);
            write(a, b, 0, 128 * KIB, 42); // spans two ranges granted separately
            write(a, b, 2 * MIB, MIB, 42);
            assertEquals(Patterns.crc(src.asSlice(0, 128 * KIB)), Patterns.crc(dst.asSlice(0, 128 * KIB)));
            assertEquals(Patterns.crc(src.asSlice(2 * MIB, MIB)), Patterns.crc(dst.asSlice(2 * MIB, MIB)));
            assertEquals(2, b.takeNotifications().size());

            // outside the grant, and under another token: refused, nothing lands
            long before = Patterns.crc(dst.asSlice(MIB, MIB));
            assertFenced(() -> write(a, b, MIB, 4 * KIB, 42));
            assertFenced(() -> write(a, b, 0, 4 * KIB, 43));
            assertEquals(before, Patterns.crc(dst.asSlice(MIB, MIB)));

            // after revoke: dropped, counted, the bytes stay what they were, no notification
            b.fences().revoke(42).get(10, TimeUnit.SECONDS);
            Patterns.fill(src, 2);
            long landed = Patterns.crc(dst.asSlice(0, 4 * MIB));
            assertFenced(() -> write(a, b, 0, 128 * KIB, 42));
            assertFenced(() -> write(a, b, 2 * MIB, MIB, 42));
            assertEquals(landed, Patterns.crc(dst.asSlice(0, 4 * MIB)), "the target bytes are unchanged");
            assertEquals(4, b.fences().fenced());
            assertEquals(4, b.stats().fencedWrites());
            assertTrue(b.takeNotifications().isEmpty(), "a dropped write delivers no notification");

            // unfenced writes still land while the receiver does not require fences
            write(a, b, 0, 4 * KIB, 0);
            assertEquals(Patterns.crc(src.asSlice(0, 4 * KIB)), Patterns.crc(dst.asSlice(0, 4 * KIB)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "shm", "ucx", "nixl"})
    void aReceiverThatRequiresFencesRefusesUnfencedWrites(String backend) throws Exception {
        assumeTrue(BackendAvailability.unavailable(backend).isEmpty(), () -> backend + ": " + BackendAvailability.unavailable(backend));
        try (TransferAgent a = open(vertx, backend, "strict-a-" + backend, false);
             TransferAgent b = open(vertx2, backend, "strict-b-" + backend, true)) {
            MemorySegment src = a.register("kv", MIB).memory(), dst = b.register("kv", MIB).memory();
            a.loadPeer(b.metadata());
            src.fill((byte) 5);
            assertFenced(() -> write(a, b, 0, 64 * KIB, 0));
            assertEquals(0, dst.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
            assertEquals(1, b.fences().fenced());
            b.fences().grant(7, List.of(d(0, 0, MIB)));
            write(a, b, 0, 64 * KIB, 7);
            assertEquals(5, dst.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
            // reads are not fenced
            a.post(TransferOp.READ, List.of(d(0, 0, 4 * KIB)), b.name(), List.of(d(0, 0, 4 * KIB)), null).completion().get(10, TimeUnit.SECONDS);
            assertThrows(TransferException.class, () -> a.post(TransferOp.READ, List.of(d(0, 0, 1)), b.name(), List.of(d(0, 0, 1)), null, 7));
        }
    }

    @Test
    void revokeWaitsForALeasedShmWriteInFlight() throws Exception {
        try (TransferAgent a = open(vertx, "shm", "inflight-a", false); TransferAgent b = open(vertx2, "shm", "inflight-b", false)) {
            MemorySegment src = a.register("kv", 8 * MIB).memory(), dst = b.register("kv", 8 * MIB).memory();
            assertEquals("shm", a.loadPeer(b.metadata()));
            b.fences().grant(5, List.of(d(0, 0, 8 * MIB)));
            Patterns.fill(src, 3);
            CompletableFuture<Void> leased = new CompletableFuture<>(), go = new CompletableFuture<>();
            AgentInternals.afterLease(a, () -> {
                leased.complete(null);
                return go;
            });
            TransferHandle h = a.post(TransferOp.WRITE, List.of(d(0, 0, 8 * MIB)), b.name(), List.of(d(0, 0, 8 * MIB)), null, 5);
            leased.get(10, TimeUnit.SECONDS); // b granted the lease; the data has not moved yet
            CompletableFuture<Void> revoked = b.fences().revoke(5);
            assertFalse(revoked.isDone(), "a write holds the token: revoke must wait for it");
            assertFalse(h.completion().isDone());
            go.complete(null);
            h.completion().get(20, TimeUnit.SECONDS);
            revoked.get(10, TimeUnit.SECONDS);
            assertEquals(Patterns.crc(src), Patterns.crc(dst), "the write leased before the revoke landed whole");
            assertEquals(0, b.fences().fenced());
            // the next one is dropped
            AgentInternals.afterLease(a, () -> CompletableFuture.completedFuture(null));
            assertFenced(() -> write(a, b, 0, 4 * KIB, 5));
        }
    }

    @Test
    void revokeCompletesWhenTheLeaseHoldersConnectionCloses() throws Exception {
        try (TransferAgent b = open(vertx2, "shm", "closing-b", false)) {
            TransferAgent a = open(vertx, "shm", "closing-a", false);
            a.register("kv", MIB);
            b.register("kv", MIB);
            a.loadPeer(b.metadata());
            b.fences().grant(9, List.of(d(0, 0, MIB)));
            CompletableFuture<Void> leased = new CompletableFuture<>();
            AgentInternals.afterLease(a, () -> {
                leased.complete(null);
                return new CompletableFuture<>(); // never moves: the writer dies holding the lease
            });
            a.post(TransferOp.WRITE, List.of(d(0, 0, MIB)), b.name(), List.of(d(0, 0, MIB)), null, 9);
            leased.get(10, TimeUnit.SECONDS);
            CompletableFuture<Void> revoked = b.fences().revoke(9);
            assertFalse(revoked.isDone());
            a.close();
            revoked.get(10, TimeUnit.SECONDS);
        }
    }

    private interface Write {
        void run() throws Exception;
    }

    private static void assertFenced(Write w) {
        ExecutionException e = assertThrows(ExecutionException.class, w::run);
        assertTrue(e.getCause() instanceof TransferException && e.getCause().getMessage().contains("fence"), e.getCause().toString());
    }
}
