package io.tandem.transfer;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Both directions of READ and WRITE with notifications against an agent in another JVM, per backend (the peer runs
 * the same backend). Adding a backend is adding its name below; ones built elsewhere are skipped while unavailable.
 */
class CrossProcessTransferTest {
    private static final int MIB = 1 << 20;
    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "shm", "auto", "ucx", "nixl"})
    void transfersBothWaysAndFailsOnADeadPeer(String backend) throws Exception {
        assumeTrue(BackendAvailability.unavailable(backend).isEmpty(), () -> backend + ": " + BackendAvailability.unavailable(backend));
        String id = backend + "-" + ProcessHandle.current().pid();
        try (PeerProcess peer = PeerProcess.start(backend, "peer-" + id);
             TransferAgent agent = TransferAgents.open(vertx, TransferConfig.of(backend, "test-" + id).withSecret(PeerProcess.secret())
                     .withTimeout(Duration.ofSeconds(10))).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS)) {
            MemorySegment a = agent.register("a", 8 * MIB).memory();
            MemorySegment b = agent.register("b", 256 * 1024 + 1).memory();
            Patterns.fill(a, 100);
            Patterns.fill(b, 101);
            String expected = backend.equals("auto") ? "shm" : backend;
            assertEquals(expected, agent.loadPeer(peer.metadata()));
            assertEquals("LOADED " + expected, peer.request("LOAD " + agent.metadata().toJson().encode()));

            // WRITE: 1 byte to several MiB, odd offsets, two regions, up to a region's last byte
            List<MemoryDescriptor> local = List.of(d(0, 1, 1), d(0, 4097, 3 * MIB + 5), d(1, 7, 65_537), d(0, 5 * MIB - 100, 100));
            List<MemoryDescriptor> remote = List.of(d(0, 3, 1), d(0, 1_000_001, 3 * MIB + 5), d(1, 17, 65_537),
                    d(1, TestPeer.REGION1 - 100, 100));
            TransferHandle w = agent.post(TransferOp.WRITE, local, peer.name(), remote, bytes("write-" + backend));
            w.completion().get(20, TimeUnit.SECONDS);
            assertEquals(TransferStatus.DONE, w.status());
            assertEquals(expected, w.backend());
            for (int i = 0; i < local.size(); i++) {
                MemoryDescriptor l = local.get(i), r = remote.get(i);
                long crc = Patterns.crc(agent.regions().get(l.region()).memory().asSlice(l.offset(), l.length()));
                assertEquals("CRC " + crc, peer.request("CRC " + r.region() + " " + r.offset() + " " + r.length()), "descriptor " + i);
            }
            assertEquals("NOTIFS test-" + id + ":" + b64("write-" + backend), peerNotifications(peer));

            // READ: untouched peer memory (known pattern) and what we wrote (read back elsewhere)
            long writtenCrc = Patterns.crc(a.asSlice(4097, 3 * MIB + 5));
            TransferHandle r = agent.post(TransferOp.READ, List.of(d(0, 7 * MIB + 11, 512 * 1024), d(1, 100_000, 333), d(0, 4 * MIB + 3, 3 * MIB + 5)),
                    peer.name(), List.of(d(0, 5 * MIB, 512 * 1024), d(1, 200_000, 333), d(0, 1_000_001, 3 * MIB + 5)), bytes("read"));
            r.completion().get(20, TimeUnit.SECONDS);
            assertTrue(Patterns.matches(a.asSlice(7 * MIB + 11, 512 * 1024), 1, 5 * MIB));
            assertTrue(Patterns.matches(b.asSlice(100_000, 333), 2, 200_000));
            assertEquals(writtenCrc, Patterns.crc(a.asSlice(4 * MIB + 3, 3 * MIB + 5)));
            assertEquals("NOTIFS test-" + id + ":" + b64("read"), peerNotifications(peer));

            // the peer writes to us with a notification
            assertEquals("OK", peer.request("WRITE 1 700000 1 1000 4096 " + b64("from-peer")));
            assertTrue(Patterns.matches(b.asSlice(1000, 4096), 2, 700_000));
            List<Notification> got = awaitNotifications(agent);
            assertEquals(1, got.size());
            assertEquals("peer-" + id, got.getFirst().fromAgent());
            assertArrayEquals(bytes("from-peer"), got.getFirst().payload());

            // a killed peer: the next post fails within seconds instead of hanging or reporting success (every
            // transfer, shm included, completes only once the receiver acknowledged it)
            peer.kill();
            long t0 = System.nanoTime();
            TransferHandle dead = agent.post(TransferOp.WRITE, List.of(d(0, 0, 4096)), peer.name(), List.of(d(0, 0, 4096)), bytes("x"));
            ExecutionException e = assertThrows(ExecutionException.class, () -> dead.completion().get(10, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof TransferException, e.toString());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
            assertTrue(dead.status() instanceof TransferStatus.Failed);
        }
    }

    /** The completion means the notification was sent; the peer's agent may not have taken it in yet. */
    private static String peerNotifications(PeerProcess peer) {
        String[] got = {""};
        Await.until(Await.DEFAULT, () -> {
            try {
                got[0] = peer.request("NOTIFS");
            } catch (Exception e) {
                throw new AssertionError("the peer process did not answer", e);
            }
            return !got[0].equals("NOTIFS ");
        }, () -> "the peer took in no notification");
        return got[0];
    }

    private static List<Notification> awaitNotifications(TransferAgent agent) {
        List<Notification> got = new ArrayList<>();
        Await.until(Await.DEFAULT, () -> got.addAll(agent.takeNotifications()), () -> "no notification arrived");
        return got;
    }

    private static MemoryDescriptor d(int region, long offset, long length) {
        return new MemoryDescriptor(region, offset, length);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(bytes(s));
    }
}
