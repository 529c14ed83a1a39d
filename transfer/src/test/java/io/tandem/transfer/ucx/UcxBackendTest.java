package io.tandem.transfer.ucx;

import io.tandem.transfer.AgentMetadata;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.ProcessSignals;
import io.tandem.transfer.RegisteredRegion;
import io.tandem.transfer.TransferConfig;
import io.tandem.transfer.TransferContext;
import io.tandem.transfer.TransferException;
import io.tandem.transfer.TransferOp;
import io.tandem.transfer.nativelib.UcpLibrary;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The UCX backend between this JVM and a peer JVM, over UCX's tcp transport and over its shared-memory transports. */
class UcxBackendTest {
    private static final long MIB = 1 << 20;
    private static final long REGION = 32 * MIB;
    /** Odd offsets, 1 byte to several MiB: pairs of (local offset, remote offset, length). */
    private static final long[][] PAIRS = {
            {1, 7, 1}, {3, 4099, 4097}, {10_000, MIB + 3, 3 * MIB + 5}, {8 * MIB + 1, 16 * MIB + 11, 8 * MIB}, {20 * MIB, 25 * MIB + 5, 65_537}};

    private Arena arena;
    private MemorySegment memory;
    private UcxBackend backend;

    @BeforeEach
    void available() {
        assumeTrue(UcxBackend.unavailableReason().isEmpty(), () -> "UCX unavailable: " + UcxBackend.unavailableReason().orElse(""));
        arena = Arena.ofShared();
        memory = arena.allocate(REGION, 4096);
    }

    @AfterEach
    void release() {
        if (backend != null) backend.close();
        if (arena != null) arena.close();
        System.clearProperty(UcxBackend.TLS_PROPERTY);
        System.clearProperty(UcxBackend.NET_DEVICES_PROPERTY);
    }

    private void startBackend(String tls, Duration timeout) {
        if (tls != null) System.setProperty(UcxBackend.TLS_PROPERTY, tls);
        System.setProperty(UcxBackend.NET_DEVICES_PROPERTY, "lo"); // a dead peer's other addresses are this host's too: stay on lo
        backend = new UcxBackend(new TransferContext(TransferConfig.of("ucx", "test").withTimeout(timeout), null, null));
        backend.register(new RegisteredRegion(0, "local", memory, null));
    }

    private void run(TransferOp op, AgentMetadata peer) {
        List<MemoryDescriptor> local = new java.util.ArrayList<>(), remote = new java.util.ArrayList<>();
        List<MemorySegment> slices = new java.util.ArrayList<>();
        for (long[] p : PAIRS) {
            local.add(new MemoryDescriptor(0, p[0], p[2]));
            remote.add(new MemoryDescriptor(0, p[1], p[2]));
            slices.add(memory.asSlice(p[0], p[2]));
        }
        backend.transfer(op, local, slices, peer, remote).orTimeout(60, TimeUnit.SECONDS).join();
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "posix,sysv,cma,self"})
    void writeThenReadMultiDescriptorListsArriveIntact(String tls) throws Exception {
        startBackend(tls, Duration.ofSeconds(30));
        try (UcxPeerProcess peer = new UcxPeerProcess("peer", REGION, tls)) {
            backend.loadPeer(peer.metadata);
            Patterns.fill(memory, 42);
            run(TransferOp.WRITE, peer.metadata);
            for (long[] p : PAIRS) {
                assertEquals(Patterns.crc(memory.asSlice(p[0], p[2])), peer.sum(p[1], p[2]), "WRITE of " + p[2] + " bytes at " + p[1]);
            }
            peer.fill(7);
            memory.fill((byte) 0);
            run(TransferOp.READ, peer.metadata);
            for (long[] p : PAIRS) {
                assertEquals(peer.sum(p[1], p[2]), Patterns.crc(memory.asSlice(p[0], p[2])), "READ of " + p[2] + " bytes at " + p[1]);
            }
            backend.forgetPeer("peer");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "posix,sysv,cma,self"})
    void aKilledPeerFailsTheNextTransferWithinSeconds(String tls) throws Exception {
        startBackend(tls, Duration.ofSeconds(3));
        try (UcxPeerProcess peer = new UcxPeerProcess("peer", REGION, tls)) {
            backend.loadPeer(peer.metadata);
            run(TransferOp.WRITE, peer.metadata);
            peer.process.destroyForcibly().waitFor();
            long start = System.nanoTime();
            CompletionException e = assertThrows(CompletionException.class, () -> run(TransferOp.WRITE, peer.metadata));
            assertInstanceOf(TransferException.class, e.getCause());
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
            assertTrue(seconds < 10, "failed after " + seconds + " s");
            System.out.println(tls + ": dead peer failed after " + (System.nanoTime() - start) / 1_000_000 + " ms: " + e.getCause().getMessage());
            backend.forgetPeer("peer");
        }
    }

    /**
     * The peer is frozen (SIGSTOP) so a 256 MiB WRITE is surely in flight, then killed. With a transport that detects
     * peer failure (tcp; UCX's default set, which picks tcp/lo in peer error mode) the error callback fails the WRITE
     * at once, long before the 60 s timeout, naming the peer and UCX's status; the next transfer to the dead peer
     * reconnects and fails as promptly; a new peer works. With shared memory alone UCX 1.13 cannot detect it (the timeout
     * fails it); UCX 1.22 can.
     */
    @ParameterizedTest
    @ValueSource(strings = {"tcp", "tcp,cma", "default", "posix,sysv,cma,self"})
    void aPeerKilledDuringALargeWriteFailsIt(String tls) throws Exception {
        // UCX 1.13's shared-memory transports cannot detect a dead peer; 1.22's (NIXL's UCX) do
        boolean detects = !tls.equals("posix,sysv,cma,self") || UcpLibrary.get().atLeast(1, 22);
        String set = tls.equals("default") ? null : tls;
        startBackend(set, Duration.ofSeconds(detects ? 60 : 3));
        long big = 256 * MIB;
        MemorySegment source = arena.allocate(big, 4096);
        Patterns.fill(source.asSlice(0, 4 * MIB), 3); // what the fresh peer checks
        List<MemoryDescriptor> d = List.of(new MemoryDescriptor(0, 0, big));
        try (UcxPeerProcess peer = new UcxPeerProcess("dying", big, set)) {
            backend.loadPeer(peer.metadata);
            backend.transfer(TransferOp.WRITE, List.of(new MemoryDescriptor(0, 0, MIB)), List.of(source.asSlice(0, MIB)),
                    peer.metadata, List.of(new MemoryDescriptor(0, 0, MIB))).get(30, TimeUnit.SECONDS);
            ProcessSignals.stop(peer.process);
            var write = backend.transfer(TransferOp.WRITE, d, List.of(source), peer.metadata, d);
            assertFalse(write.isDone(), "a WRITE to a frozen peer cannot be done");
            ProcessSignals.kill(peer.process);
            long killed = System.nanoTime();
            ExecutionException e = assertThrows(ExecutionException.class, () -> write.get(30, TimeUnit.SECONDS));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
            String message = e.getCause().getMessage();
            System.out.println("UCX_TLS=" + tls + ": WRITE in flight failed " + ms + " ms after the kill: " + message);
            assertInstanceOf(TransferException.class, e.getCause());
            assertTrue(message.contains("dying"), message);
            if (detects) {
                assertTrue(ms < 10_000, "failed only after " + ms + " ms");
                assertTrue(message.contains("failed: ") && !message.contains("timed out"), message);
                long again = System.nanoTime();
                var next = backend.transfer(TransferOp.WRITE, d, List.of(source), peer.metadata, d);
                ExecutionException e2 = assertThrows(ExecutionException.class, () -> next.get(30, TimeUnit.SECONDS));
                System.out.println("UCX_TLS=" + tls + ": next WRITE to the dead peer failed after "
                        + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - again) + " ms: " + e2.getCause().getMessage());
                assertTrue(System.nanoTime() - again < TimeUnit.SECONDS.toNanos(10));
            } else {
                assertTrue(message.contains("timed out"), message);
            }
            backend.forgetPeer("dying");
        }
        try (UcxPeerProcess fresh = new UcxPeerProcess("fresh", 4 * MIB, set)) {
            backend.loadPeer(fresh.metadata);
            List<MemoryDescriptor> small = List.of(new MemoryDescriptor(0, 0, 4 * MIB));
            backend.transfer(TransferOp.WRITE, small, List.of(source.asSlice(0, 4 * MIB)), fresh.metadata, small).get(30, TimeUnit.SECONDS);
            assertEquals(Patterns.crc(source.asSlice(0, 4 * MIB)), fresh.sum(0, 4 * MIB));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp"})
    void unknownPeersAndOutOfRangeDescriptorsFailAtOnce(String tls) throws Exception {
        startBackend(tls, Duration.ofSeconds(5));
        try (UcxPeerProcess peer = new UcxPeerProcess("peer", MIB, tls)) {
            List<MemoryDescriptor> local = List.of(new MemoryDescriptor(0, 0, 16));
            List<MemorySegment> slices = List.of(memory.asSlice(0, 16));
            var unknown = backend.transfer(TransferOp.WRITE, local, slices, peer.metadata, List.of(new MemoryDescriptor(0, 0, 16)));
            assertInstanceOf(TransferException.class, assertThrows(CompletionException.class, unknown::join).getCause());
            backend.loadPeer(peer.metadata);
            var past = backend.transfer(TransferOp.WRITE, local, slices, peer.metadata, List.of(new MemoryDescriptor(0, MIB - 8, 16)));
            assertInstanceOf(TransferException.class, assertThrows(CompletionException.class, past::join).getCause());
            backend.loadPeer(peer.metadata); // reloading the same metadata keeps endpoint and rkeys
            backend.transfer(TransferOp.WRITE, local, slices, peer.metadata, List.of(new MemoryDescriptor(0, MIB - 16, 16))).join();
        }
        backend.close();
        backend.close(); // idempotent
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp"})
    void payloadRoundTrips(String tls) {
        startBackend(tls, Duration.ofSeconds(5));
        UcxPayload p = UcxPayload.decode(backend.payload());
        assertEquals(1, p.regions().size());
        assertEquals(memory.address(), p.regions().getFirst().base());
        assertEquals(REGION, p.regions().getFirst().size());
        assertTrue(p.workerAddress().length > 0 && p.regions().getFirst().rkey().length > 0);
        assertThrows(TransferException.class, () -> UcxPayload.decode(new byte[]{1, 2}));
        assertTrue(new AgentMetadata("x", "h", "127.0.0.1", 0, List.of(), Map.of("ucx", backend.payload())).offers("ucx"));
    }
}
