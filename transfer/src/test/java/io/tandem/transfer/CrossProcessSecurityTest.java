package io.tandem.transfer;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An agent in another JVM with the wrong cluster secret can neither READ nor WRITE a single byte, either way. */
class CrossProcessSecurityTest {
    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void aPeerWithTheWrongSecretMovesNoByte() throws Exception {
        String id = "wrong-" + ProcessHandle.current().pid();
        try (PeerProcess peer = PeerProcess.start("tcp", "peer-" + id, "the-wrong-secret-for-this-cluster");
             TransferAgent agent = Agents.open(vertx, "tcp", "victim", c -> c.withSecret(PeerProcess.secret()))) {
            MemorySegment mine = agent.register("kv", 1 << 20).memory();
            Patterns.fill(mine, 9);
            long myCrc = Patterns.crc(mine);

            // the peer loads our metadata: refused at the handshake, so it cannot post anything to us
            String loaded = peer.request("LOAD " + agent.metadata().toJson().encode());
            assertTrue(loaded.startsWith("ERR") && loaded.contains("bad_mac"), loaded);
            assertEquals(1, agent.stats().refused("bad_mac"));
            String write = peer.request("WRITE 0 0 0 0 4096 " + java.util.Base64.getEncoder().encodeToString(new byte[1]));
            assertTrue(write.startsWith("ERR") && write.contains("unknown peer"), write);

            // and we cannot be tricked into its agent either: it refuses ours
            TransferException e = assertThrows(TransferException.class, () -> agent.loadPeer(peer.metadata()));
            assertTrue(e.getMessage().contains("bad_mac"), e.getMessage());

            assertEquals(myCrc, Patterns.crc(mine), "our memory is unchanged");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment expected = arena.allocate(TestPeer.REGION0);
                Patterns.fill(expected, 1);
                assertEquals("CRC " + Patterns.crc(expected), peer.request("CRC 0 0 " + TestPeer.REGION0), "the peer's memory is unchanged");
            }
        }
    }
}
