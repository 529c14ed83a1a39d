package io.tandem.transfer;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** One agent in this JVM against fakes: validation, backend choice, cleanup, and failures that must not hang. */
class AgentTest {
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

    private static TransferAgent open(String backend, String name, Duration timeout) throws Exception {
        return TransferAgents.open(vertx, TransferConfig.of(backend, name + "-" + ProcessHandle.current().pid()).withTimeout(timeout))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static AgentMetadata fakePeer(int port, long regionSize, Map<String, byte[]> offers) {
        return new AgentMetadata("fake", HostId.get(), "127.0.0.1", port, List.of(new RegionInfo(0, "r", regionSize, null)), offers);
    }

    private static MemoryDescriptor d(int region, long offset, long length) {
        return new MemoryDescriptor(region, offset, length);
    }

    @Test
    void badDescriptorsAndUnknownPeersThrowAtOnce() throws Exception {
        try (TransferAgent a = open("tcp", "val-a", Duration.ofSeconds(5)); TransferAgent b = open("tcp", "val-b", Duration.ofSeconds(5))) {
            a.register("x", 4096);
            b.register("y", 1000);
            String peer = b.name();
            assertThrows(TransferException.class, () -> a.post(TransferOp.WRITE, List.of(d(0, 0, 10)), peer, List.of(d(0, 0, 10)), null),
                    "unknown peer");
            assertEquals("tcp", a.loadPeer(b.metadata()));
            assertThrows(TransferException.class, () -> a.post(TransferOp.WRITE, List.of(d(1, 0, 10)), peer, List.of(d(0, 0, 10)), null),
                    "unknown local region");
            assertThrows(TransferException.class, () -> a.post(TransferOp.WRITE, List.of(d(0, 4090, 10)), peer, List.of(d(0, 0, 10)), null),
                    "local out of range");
            assertThrows(TransferException.class, () -> a.post(TransferOp.READ, List.of(d(0, 0, 10)), peer, List.of(d(0, 995, 10)), null),
                    "remote out of range");
            assertThrows(TransferException.class, () -> a.post(TransferOp.READ, List.of(d(0, 0, 10)), peer, List.of(d(5, 0, 10)), null),
                    "unknown remote region");
            assertThrows(TransferException.class, () -> a.post(TransferOp.WRITE, List.of(d(0, 0, 10)), peer, List.of(d(0, 0, 11)), null),
                    "length mismatch");
            assertThrows(TransferException.class, () -> a.post(TransferOp.WRITE, List.of(d(0, 0, 10), d(0, 10, 10)), peer,
                    List.of(d(0, 0, 10)), null), "list length mismatch");
            // a good one still works after all that
            a.post(TransferOp.WRITE, List.of(d(0, 0, 10)), peer, List.of(d(0, 990, 10)), null).completion().get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void theReceiverRejectsDescriptorsOutsideItsRegions() throws Exception {
        try (TransferAgent a = open("tcp", "rej-a", Duration.ofSeconds(5)); TransferAgent b = open("tcp", "rej-b", Duration.ofSeconds(5))) {
            a.register("x", 4096);
            b.register("y", 1000);
            // stale metadata claims a bigger region than b has: only b can tell
            AgentMetadata stale = new AgentMetadata(b.name(), HostId.get(), "127.0.0.1", b.metadata().controlPort(),
                    List.of(new RegionInfo(0, "y", 4096, null)), Map.of("tcp", new byte[0]));
            a.loadPeer(stale);
            for (TransferOp op : TransferOp.values()) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> a.post(op, List.of(d(0, 0, 2000)), b.name(),
                        List.of(d(0, 0, 2000)), null).completion().get(5, TimeUnit.SECONDS));
                assertTrue(e.getCause().getMessage().contains("out of bounds of region 0"), e.getCause().getMessage());
            }
        }
    }

    @Test
    void closingDeletesTheShmFiles() throws Exception {
        TransferAgent a = open("shm", "close", Duration.ofSeconds(5));
        List<Path> files = List.of(Path.of(a.register("kv", 64L << 30).path()), Path.of(a.register("odd label/x", 5).path()));
        for (Path f : files) assertTrue(Files.exists(f), f.toString());
        assertEquals(64L << 30, Files.size(files.getFirst()), "sparse: 64 GiB cost nothing");
        a.close();
        for (Path f : files) assertFalse(Files.exists(f), f.toString());
    }

    @Test
    void autoUsesTcpForAPeerWithoutShmAndAFixedShmAgentRefusesIt() throws Exception {
        try (TransferAgent auto = open("auto", "choice-auto", Duration.ofSeconds(5)); TransferAgent shm = open("shm", "choice-shm", Duration.ofSeconds(5));
             TransferAgent tcp = open("tcp", "choice-tcp", Duration.ofSeconds(5))) {
            tcp.register("r", 100);
            assertEquals("tcp", auto.loadPeer(tcp.metadata()));
            TransferException e = assertThrows(TransferException.class, () -> shm.loadPeer(tcp.metadata()));
            assertTrue(e.getMessage().contains("shm backend cannot reach peer"), e.getMessage());
        }
    }

    @Test
    void aConfiguredBackendThatIsMissingFailsOpen() {
        assumeTrue(BackendAvailability.unavailable("nixl").isPresent());
        ExecutionException e = assertThrows(ExecutionException.class, () -> open("nixl", "nixl", Duration.ofSeconds(5)));
        assertTrue(e.getCause() instanceof TransferException && e.getCause().getMessage().startsWith("nixl backend unavailable: "),
                e.getCause().toString());
    }

    @Test
    void aPeerThatClosesInTheMiddleOfALargeWriteFailsIt() throws Exception {
        AtomicLong received = new AtomicLong();
        NetServer fake = vertx.createNetServer().connectHandler(s -> s.handler(buf -> {
            if (received.addAndGet(buf.length()) > MIB) s.close();
        }));
        int port = fake.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS).actualPort();
        try (TransferAgent a = open("tcp", "trunc", Duration.ofSeconds(20))) {
            a.register("big", 64 * MIB);
            a.loadPeer(fakePeer(port, 64 * MIB, Map.of("tcp", new byte[0])));
            TransferHandle h = a.post(TransferOp.WRITE, List.of(d(0, 0, 64 * MIB)), "fake", List.of(d(0, 0, 64 * MIB)), null);
            ExecutionException e = assertThrows(ExecutionException.class, () -> h.completion().get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof TransferException, e.toString());
            assertTrue(received.get() < 64 * MIB);
        } finally {
            fake.close();
        }
    }

    @Test
    void aPeerThatNeverAnswersTimesOut() throws Exception {
        NetServer silent = vertx.createNetServer().connectHandler(s -> s.handler(buf -> { }));
        int port = silent.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS).actualPort();
        try (TransferAgent a = open("tcp", "silent", Duration.ofMillis(500))) {
            a.register("r", 4096);
            a.loadPeer(fakePeer(port, 4096, Map.of()));
            TransferHandle h = a.post(TransferOp.READ, List.of(d(0, 0, 4096)), "fake", List.of(d(0, 0, 4096)), null);
            ExecutionException e = assertThrows(ExecutionException.class, () -> h.completion().get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("timed out"), e.getCause().getMessage());
        } finally {
            silent.close();
        }
    }

    @Test
    void aDeadPeerFailsFast() throws Exception {
        NetServer gone = vertx.createNetServer().connectHandler(s -> { });
        int port = gone.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS).actualPort();
        gone.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        try (TransferAgent a = open("tcp", "dead", Duration.ofSeconds(30))) {
            a.register("r", 4096);
            a.loadPeer(fakePeer(port, 4096, Map.of()));
            long t0 = System.nanoTime();
            TransferHandle h = a.post(TransferOp.WRITE, List.of(d(0, 0, 4096)), "fake", List.of(d(0, 0, 4096)), "n".getBytes());
            ExecutionException e = assertThrows(ExecutionException.class, () -> h.completion().get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("cannot connect to peer fake"), e.getCause().getMessage());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2));
        }
    }
}
