package io.tandem.transfer;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.tandem.transfer.Agents.d;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** shm is chosen only when the peer proves it maps the owner's memory: reading back the owner's probe nonce. */
class ShmProofTest {
    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static TransferAgent open(String backend, String name) throws Exception {
        return Agents.open(vertx, backend, name, c -> c.withSecret(PeerProcess.secret()));
    }

    @Test
    void aPeerThatReallySharesTheFilesGetsShm() throws Exception {
        try (TransferAgent a = open("auto", "proof-a"); TransferAgent b = open("auto", "proof-b")) {
            a.register("r", 4096).memory().fill((byte) 3);
            MemorySegment mb = b.register("r", 4096).memory();
            assertEquals("shm", a.loadPeer(b.metadata()));
            a.post(TransferOp.WRITE, List.of(d(0, 0, 4096)), b.name(), List.of(d(0, 0, 4096)), null).completion().get(10, TimeUnit.SECONDS);
            assertEquals(3, mb.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 4095));
        }
    }

    @Test
    void aForgedProbeFileIsNotShm(@TempDir Path tmp) throws Exception {
        try (TransferAgent a = open("auto", "forged-a"); TransferAgent fixed = open("shm", "forged-shm"); TransferAgent b = open("auto", "forged-b")) {
            a.register("r", 4096);
            fixed.register("r", 4096);
            b.register("r", 4096);
            AgentMetadata real = b.metadata();
            Path probe = Path.of(new String(real.backendPayloads().get("shm"), StandardCharsets.UTF_8));
            // a copy of b's metadata whose probe is another file beside b's: same directory, right size, other content
            Path forged = probe.resolveSibling("tandem-forged-probe-" + ProcessHandle.current().pid());
            Files.write(forged, new byte[32]);
            try {
                AgentMetadata copied = real.withPayload("shm", forged.toString().getBytes(StandardCharsets.UTF_8));
                String chosen = a.loadPeer(copied);
                assertTrue(!chosen.equals("shm"), "auto falls back: " + chosen);
                TransferException e = assertThrows(TransferException.class, () -> fixed.loadPeer(copied));
                assertTrue(e.getMessage().contains("shm proof failed"), e.getMessage());
                // a probe elsewhere than the regions proves nothing about them
                Path elsewhere = tmp.resolve("probe");
                Files.copy(probe, elsewhere);
                AgentMetadata moved = real.withPayload("shm", elsewhere.toString().getBytes(StandardCharsets.UTF_8));
                e = assertThrows(TransferException.class, () -> fixed.loadPeer(moved));
                assertTrue(e.getMessage().contains("not beside the probe file"), e.getMessage());
                // and the real one still works
                assertEquals("shm", fixed.loadPeer(real));
            } finally {
                Files.deleteIfExists(forged);
            }
        }
    }
}
