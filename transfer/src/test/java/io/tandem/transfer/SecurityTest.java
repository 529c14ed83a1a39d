package io.tandem.transfer;

import io.tandem.protocol.auth.ClusterSecret;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.tandem.transfer.Agents.d;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The control channel serves only peers that prove the cluster secret, and a connection reaches only the agent its
 * metadata names: wrong or missing secrets, raw sockets that skip the handshake, garbage, silence, misidentified
 * and self-pointing metadata are refused, counted, and move no byte.
 */
class SecurityTest {
    private static final ClusterSecret SECRET = PeerProcess.secret();
    private static final ClusterSecret OTHER = ClusterSecret.of("a-different-secret-of-enough-bytes");
    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static TransferAgent open(String name, ClusterSecret secret) throws Exception {
        return Agents.open(vertx, "tcp", name, c -> c.withSecret(secret));
    }

    @Test
    void theRightSecretTransfersBothWays() throws Exception {
        try (TransferAgent a = open("right-a", SECRET); TransferAgent b = open("right-b", SECRET)) {
            MemorySegment ma = a.register("r", 8192).memory(), mb = b.register("r", 8192).memory();
            ma.fill((byte) 1);
            assertEquals("tcp", a.loadPeer(b.metadata()));
            a.post(TransferOp.WRITE, List.of(d(0, 0, 4096)), b.name(), List.of(d(0, 4096, 4096)), null).completion().get(10, TimeUnit.SECONDS);
            assertEquals(1, mb.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 8191));
            mb.asSlice(0, 4096).fill((byte) 2);
            a.post(TransferOp.READ, List.of(d(0, 0, 4096)), b.name(), List.of(d(0, 0, 4096)), null).completion().get(10, TimeUnit.SECONDS);
            assertEquals(2, ma.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0));
            assertEquals(0, b.stats().refusedTotal());
        }
    }

    @Test
    void wrongOrMissingSecretsAreRefusedEitherWayAndCounted() throws Exception {
        try (TransferAgent b = open("guarded", SECRET); TransferAgent wrong = open("wrong", OTHER); TransferAgent none = open("none", null)) {
            b.register("r", 4096);
            TransferException e = assertThrows(TransferException.class, () -> wrong.loadPeer(b.metadata()));
            assertTrue(e.getMessage().contains("refused the connection: bad_mac"), e.getMessage());
            e = assertThrows(TransferException.class, () -> none.loadPeer(b.metadata()));
            assertTrue(e.getMessage().contains("refused the connection: no_secret"), e.getMessage());
            none.register("r", 4096);
            // and a peer with a secret does not talk to one without: the open agent refuses it
            e = assertThrows(TransferException.class, () -> b.loadPeer(none.metadata()));
            assertTrue(e.getMessage().contains("unexpected_secret"), e.getMessage());
            assertEquals(1, b.stats().refused("bad_mac"));
            assertEquals(1, b.stats().refused("no_secret"));
            assertEquals(1, none.stats().refused("unexpected_secret"));
            assertTrue(b.stats().refusedConnections().keySet().containsAll(TransferStats.REASONS));
        }
    }

    @Test
    void rawSocketsThatSkipTheHandshakeGetNoByteAndWriteNone() throws Exception {
        try (TransferAgent b = open("raw", SECRET)) {
            MemorySegment m = b.register("r", 4096).memory();
            m.fill((byte) 9);
            int port = b.metadata().controlPort();
            // a WRITE frame first: id, fence 0, region 0, offset 0, 4096 bytes of 0x55
            ByteBuffer write = ByteBuffer.allocate(13 + 28 + 4096).put((byte) 1).putInt(28).putLong(4096)
                    .putLong(1).putLong(0).putInt(0).putLong(0);
            while (write.hasRemaining()) write.put((byte) 0x55);
            assertRefusedOnly(port, write.array());
            // a READ frame first: id, 1 descriptor (region 0, offset 0, 4096)
            ByteBuffer read = ByteBuffer.allocate(13 + 32).put((byte) 3).putInt(32).putLong(0).putLong(2).putInt(1)
                    .putInt(0).putLong(0).putLong(4096);
            assertRefusedOnly(port, read.array());
            assertRefusedOnly(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(2, b.stats().refused("frame_before_handshake"));
            assertEquals(1, b.stats().refused("malformed"));
            byte[] after = m.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            byte[] nines = new byte[4096];
            Arrays.fill(nines, (byte) 9);
            assertArrayEquals(nines, after, "the target memory is unchanged");
        }
    }

    @Test
    void aSilentConnectionIsClosedAtTheHandshakeTimeout() throws Exception {
        try (TransferAgent b = Agents.open(vertx, "tcp", "silent", c -> c.withSecret(SECRET).withTimeout(Duration.ofMillis(700)));
             Socket s = new Socket("127.0.0.1", b.metadata().controlPort())) {
            s.setSoTimeout(10_000);
            long t0 = System.nanoTime();
            byte[] got = readToEnd(s.getInputStream());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
            assertEquals(13, got[0], "REFUSED");
            assertTrue(new String(got, StandardCharsets.UTF_8).contains("timeout"));
            assertEquals(1, b.stats().refused("timeout"));
        }
    }

    @Test
    void metadataThatLeadsToAnotherAgentFailsLoadPeer() throws Exception {
        try (TransferAgent a = open("id-a", SECRET); TransferAgent b = open("id-b", SECRET); TransferAgent c = open("id-c", SECRET)) {
            a.register("r", 4096);
            b.register("r", 4096);
            AgentMetadata aAtB = a.metadata().withControlAddress("127.0.0.1", b.metadata().controlPort());
            TransferException e = assertThrows(TransferException.class, () -> c.loadPeer(aAtB));
            String expected = "reached agent " + b.name() + " epoch " + Long.toUnsignedString(b.metadata().identity().epoch(), 16);
            assertTrue(e.getMessage().startsWith(expected), e.getMessage());
            assertTrue(e.getMessage().contains("expected agent " + a.name() + " epoch "
                    + Long.toUnsignedString(a.metadata().identity().epoch(), 16)), e.getMessage());
            assertEquals(1, c.stats().refused("identity_mismatch"));
            assertEquals(null, c.backendFor(a.name()));
            // a restarted agent (same name, new epoch) is not the one the metadata names either
            try (TransferAgent a2 = Agents.open(vertx, "tcp", "id-a2", cfg -> cfg.withSecret(SECRET))) {
                AgentMetadata stale = new AgentMetadata(a2.name(), "h", "127.0.0.1", a2.metadata().controlPort(), List.of(),
                        java.util.Map.of(), AgentIdentity.of(a2.name(), null));
                e = assertThrows(TransferException.class, () -> c.loadPeer(stale));
                assertTrue(e.getMessage().startsWith("reached agent " + a2.name() + " epoch"), e.getMessage());
            }
        }
    }

    @Test
    void aReconnectRedoesTheHandshakeAndItsIdentityCheck() throws Exception {
        try (TransferAgent a = open("re-a", SECRET); TransferAgent b = open("re-b", SECRET); TransferAgent c = open("re-c", SECRET);
             Relay relay = Relay.to(vertx, b.metadata().controlPort())) {
            a.register("r", 4096);
            b.register("r", 4096);
            c.register("r", 4096);
            a.loadPeer(b.metadata().withControlAddress("127.0.0.1", relay.port()));
            a.post(TransferOp.WRITE, List.of(d(0, 0, 4096)), b.name(), List.of(d(0, 0, 4096)), null).completion().get(10, TimeUnit.SECONDS);
            relay.retarget(b.metadata().controlPort()); // connection lost, the address still leads to b
            awaitTransfer(a, b.name());
            relay.retarget(c.metadata().controlPort()); // now the same address leads to another agent
            String[] last = {""};
            // the first writes may meet the lost connection: write until one fails for the right reason
            Await.until(Await.DEFAULT, () -> {
                try {
                    a.post(TransferOp.WRITE, List.of(d(0, 0, 4096)), b.name(), List.of(d(0, 0, 4096)), null).completion().get(10, TimeUnit.SECONDS);
                    throw new AssertionError("a write through an address that leads to " + c.name() + " succeeded");
                } catch (java.util.concurrent.ExecutionException e) {
                    last[0] = e.getCause().getMessage();
                } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
                    throw new AssertionError(e);
                }
                return last[0].contains("reached agent");
            }, () -> last[0]);
            assertTrue(last[0].contains("reached agent " + c.name()), last[0]);
        }
    }

    /** Posts until one succeeds (the first may still meet the connection that was just lost). */
    private static void awaitTransfer(TransferAgent a, String peer) {
        Throwable[] last = {null};
        Await.until(Await.DEFAULT, () -> {
            try {
                a.post(TransferOp.WRITE, List.of(d(0, 0, 4096)), peer, List.of(d(0, 0, 4096)), null).completion().get(10, TimeUnit.SECONDS);
                return true;
            } catch (java.util.concurrent.ExecutionException e) {
                last[0] = e.getCause();
                return false;
            } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
                throw new AssertionError(e);
            }
        }, () -> "no write to " + peer + " succeeded: " + last[0]);
    }

    @Test
    void anAgentRefusesItsOwnMetadataAndAnAddressThatLeadsBackToIt() throws Exception {
        try (TransferAgent a = open("self-a", SECRET); TransferAgent b = open("self-b", SECRET)) {
            a.register("r", 4096);
            TransferException e = assertThrows(TransferException.class, () -> a.loadPeer(a.metadata()));
            assertTrue(e.getMessage().startsWith("refusing to load this agent's own metadata"), e.getMessage());
            // b's metadata with a's address (a misadvertised 0.0.0.0 resolves to the agent itself)
            AgentMetadata misadvertised = b.metadata().withControlAddress("127.0.0.1", a.metadata().controlPort());
            e = assertThrows(TransferException.class, () -> a.loadPeer(misadvertised));
            assertTrue(e.getMessage().contains("this agent itself"), e.getMessage());
        }
    }

    @Test
    void loadPeerRefusesToBlockAnEventLoop() throws Exception {
        try (TransferAgent a = open("loop-a", SECRET); TransferAgent b = open("loop-b", SECRET)) {
            AgentMetadata m = b.metadata();
            Throwable t = vertx.executeBlocking(() -> 0).compose(x -> {
                try {
                    a.loadPeer(m);
                    return io.vertx.core.Future.succeededFuture((Throwable) null);
                } catch (RuntimeException e) {
                    return io.vertx.core.Future.succeededFuture((Throwable) e);
                }
            }).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertTrue(t instanceof IllegalStateException && t.getMessage().contains("worker thread"), String.valueOf(t));
        }
    }

    /** Sends {@code bytes} on a fresh connection: the only answer is a REFUSED frame, then the connection closes. */
    private static void assertRefusedOnly(int port, byte[] bytes) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            try {
                out.write(bytes);
                out.flush();
            } catch (java.io.IOException closedEarly) {
                // the agent may close before it read everything: what matters is what it answered
            }
            byte[] got = readToEnd(s.getInputStream());
            assertTrue(got.length >= 13, "an answer: " + got.length + " bytes");
            assertEquals(13, got[0], "REFUSED, nothing else");
            int header = ByteBuffer.wrap(got, 1, 4).getInt();
            assertEquals(13 + header, got.length, "one REFUSED frame and nothing after it");
        }
    }

    private static byte[] readToEnd(InputStream in) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) out.write(buf, 0, n);
        } catch (java.net.SocketException reset) {
            // a reset after the agent closed: the bytes before it count
        }
        return out.toByteArray();
    }
}
