package io.tandem.transfer;

import io.tandem.platform.MappedPages;
import io.tandem.transfer.agent.HostId;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

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
                    List.of(new RegionInfo(0, "y", 4096, null)), Map.of("tcp", new byte[0]), b.metadata().identity());
            a.loadPeer(stale);
            for (TransferOp op : TransferOp.values()) {
                ExecutionException e = assertThrows(ExecutionException.class, () -> a.post(op, List.of(d(0, 0, 2000)), b.name(),
                        List.of(d(0, 0, 2000)), null).completion().get(5, TimeUnit.SECONDS));
                assertTrue(e.getCause().getMessage().contains("out of bounds of region 0"), e.getCause().getMessage());
            }
        }
    }

    @Test
    void closingDeletesTheShmFilesWhichOnlyTheOwnerMayOpen() throws Exception {
        TransferAgent a = open("shm", "close", Duration.ofSeconds(5));
        List<Path> files = List.of(Path.of(a.register("kv", 8 * MIB).path()), Path.of(a.register("odd label/x", 5).path()),
                Path.of(new String(a.metadata().backendPayloads().get("shm"), java.nio.charset.StandardCharsets.UTF_8)));
        for (Path f : files) {
            assertTrue(Files.exists(f), f.toString());
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
        }
        assertEquals(8 * MIB, Files.size(files.getFirst()));
        a.close();
        for (Path f : files) assertFalse(Files.exists(f), f.toString());
    }

    @Test
    void aShmRegionIsMappedWhenRegisteredNotPageByPageAtItsFirstWrites() throws Exception {
        assumeTrue(MappedPages.readable(), "Linux /proc needed");
        try (TransferAgent a = open("shm", "populated", Duration.ofSeconds(5))) {
            RegisteredRegion r = a.register("kv", 8 * MIB);
            assumeTrue(r.path() != null, "no shm directory here");
            assertEquals(8 * MIB / 1024, MappedPages.residentKiB(r.memory().address()),
                    "a KV arena's pages are in the page tables before a prefill writes them");
        }
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
        try (TransferAgent a = open("tcp", "trunc-a", Duration.ofSeconds(20)); TransferAgent b = open("tcp", "trunc-b", Duration.ofSeconds(20));
             Relay relay = Relay.to(vertx, b.metadata().controlPort())) {
            a.register("big", 64 * MIB);
            b.register("big", 64 * MIB);
            a.loadPeer(b.metadata().withControlAddress("127.0.0.1", relay.port()));
            relay.cutAfter(MIB);
            TransferHandle h = a.post(TransferOp.WRITE, List.of(d(0, 0, 64 * MIB)), b.name(), List.of(d(0, 0, 64 * MIB)), null);
            ExecutionException e = assertThrows(ExecutionException.class, () -> h.completion().get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof TransferException, e.toString());
            assertTrue(relay.forwarded() < 64 * MIB);
        }
    }

    @Test
    void aPeerThatNeverAnswersTimesOut() throws Exception {
        try (TransferAgent a = open("tcp", "silent-a", Duration.ofSeconds(2)); TransferAgent b = open("tcp", "silent-b", Duration.ofSeconds(2));
             Relay relay = Relay.to(vertx, b.metadata().controlPort())) {
            a.register("r", 4096);
            b.register("r", 4096);
            a.loadPeer(b.metadata().withControlAddress("127.0.0.1", relay.port()));
            relay.silence();
            TransferHandle h = a.post(TransferOp.READ, List.of(d(0, 0, 4096)), b.name(), List.of(d(0, 0, 4096)), null);
            ExecutionException e = assertThrows(ExecutionException.class, () -> h.completion().get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("timed out"), e.getCause().getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "shm", "ucx", "nixl"})
    void aDeadPeerFailsFast(String backend) throws Exception {
        assumeTrue(BackendAvailability.unavailable(backend).isEmpty(), () -> backend + ": " + BackendAvailability.unavailable(backend));
        try (TransferAgent a = open(backend, "dead-a-" + backend, Duration.ofSeconds(30))) {
            TransferAgent b = open(backend, "dead-b-" + backend, Duration.ofSeconds(30));
            a.register("r", 4096);
            b.register("r", 4096);
            assertEquals(backend, a.loadPeer(b.metadata()));
            b.close();
            long t0 = System.nanoTime();
            TransferHandle h = a.post(TransferOp.WRITE, List.of(d(0, 0, 4096)), b.name(), List.of(d(0, 0, 4096)), "n".getBytes());
            ExecutionException e = assertThrows(ExecutionException.class, () -> h.completion().get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof TransferException && e.getCause().getMessage().contains(b.name()), e.getCause().toString());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2));
            TransferHandle again = a.post(TransferOp.READ, List.of(d(0, 0, 4096)), b.name(), List.of(d(0, 0, 4096)), null);
            e = assertThrows(ExecutionException.class, () -> again.completion().get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains(b.name()), e.getCause().getMessage());
        }
    }
}
