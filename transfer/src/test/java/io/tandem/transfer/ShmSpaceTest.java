package io.tandem.transfer;

import io.tandem.transfer.agent.AgentInternals;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.tandem.transfer.Agents.d;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A shm directory too small for the regions (Docker's default 64 MiB /dev/shm against a 192 MiB KV arena) must not
 * crash the JVM: the regions that do not fit are anonymous, shm is no longer offered, and tcp carries the transfers.
 * Uses a 1 MiB tmpfs mounted for the test (needs root; skipped with the reason otherwise).
 */
class ShmSpaceTest {
    private static final int KIB = 1024, MIB = 1 << 20;
    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** Mounts a 1 MiB tmpfs at {@code dir}, or skips the test saying why. */
    private static void mountSmallTmpfs(Path dir) throws Exception {
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", dir.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        boolean ok = p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        if (!ok) System.out.println("ShmSpaceTest skipped: cannot mount a tmpfs (" + out + ")");
        assumeTrue(ok, () -> "cannot mount a tmpfs: " + out);
    }

    private static void unmount(Path dir) throws Exception {
        new ProcessBuilder("umount", dir.toString()).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
    }

    @Test
    void regionsThatDoNotFitAreAnonymousAndTransfersGoOverTcp(@TempDir Path tmp) throws Exception {
        Path small = Files.createDirectory(tmp.resolve("shm"));
        mountSmallTmpfs(small);
        try (TransferAgent x = Agents.open(vertx, "shm", "small", c -> c.withSecret(PeerProcess.secret()).withShmDirectory(small.toString()));
             TransferAgent y = Agents.open(vertx, "tcp", "big", c -> c.withSecret(PeerProcess.secret()))) {
            assertEquals("shm", x.backend());
            RegisteredRegion fits = x.register("fits", 256 * KIB);
            RegisteredRegion tooBig = x.register("too-big", 2 * MIB);
            RegisteredRegion after = x.register("after", 4 * KIB);
            assertNotNull(fits.path(), "a region that fits is a file");
            assertNull(tooBig.path(), "a region that does not fit is anonymous");
            assertNull(after.path(), "and so is every region after it: shm is off");
            assertEquals("tcp", x.backend(), "a lone shm backend is replaced by tcp");
            assertFalse(x.metadata().offers("shm"), "shm needs every region as a file: not offered");
            // every byte of the anonymous region can be touched (a sparse file here would have SIGBUSed)
            Patterns.fill(tooBig.memory(), 4);

            MemorySegment ym = y.register("r", 2 * MIB).memory();
            assertEquals("tcp", y.loadPeer(x.metadata()));
            assertEquals("tcp", x.loadPeer(y.metadata()));
            y.post(TransferOp.READ, List.of(d(0, 0, 2 * MIB)), x.name(), List.of(d(1, 0, 2 * MIB)), null).completion().get(20, TimeUnit.SECONDS);
            assertEquals(Patterns.crc(tooBig.memory()), Patterns.crc(ym));
            Patterns.fill(ym, 5);
            y.post(TransferOp.WRITE, List.of(d(0, 0, 256 * KIB)), x.name(), List.of(d(0, 0, 256 * KIB)), null).completion().get(20, TimeUnit.SECONDS);
            assertEquals(Patterns.crc(ym.asSlice(0, 256 * KIB)), Patterns.crc(fits.memory()));
        } finally {
            unmount(small);
        }
    }

    @Test
    void aReservationThatDoesNotFitLeavesNoFile(@TempDir Path tmp) throws Exception {
        Path small = Files.createDirectory(tmp.resolve("shm"));
        mountSmallTmpfs(small);
        try {
            Path f = small.resolve("too-big");
            IOException e = assertThrows(IOException.class, () -> AgentInternals.reserveFile(f, 2 * MIB));
            assertTrue(e.getMessage().contains("ENOSPC"), e.getMessage());
            assertFalse(Files.exists(f));
            Path ok = small.resolve("fits");
            AgentInternals.reserveFile(ok, 512 * KIB);
            assertEquals(512 * KIB, Files.size(ok));
            assertTrue(Files.getFileStore(small).getUsableSpace() <= 512 * KIB, "the blocks are taken now, not at first touch");
            assertThrows(IOException.class, () -> AgentInternals.reserveFile(ok, 1), "never over an existing file");
        } finally {
            unmount(small);
        }
    }
}
