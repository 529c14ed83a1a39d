package io.tandem.transfer;

import io.tandem.transfer.ucx.UcxBackend;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A peer process that dies in the middle of a large WRITE, per backend: the WRITE fails (never reports success) well
 * within the transfer timeout, naming the peer, a further WRITE to the dead peer fails as promptly, and the agent
 * stays usable for a new peer. The peer is frozen with SIGSTOP before the WRITE is posted, so the WRITE is surely in
 * flight (no socket reads, no UCX progress, no confirmation) when SIGKILL lands; no sleep decides anything.
 */
class PeerDeathTest {
    private static final long MIB = 1 << 20;
    private static final long LARGE = 256 * MIB;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final long PROMPT_MILLIS = 10_000;
    /**
     * Whether the agent confirms one-sided WRITEs on the control connection. Until it does, a shm WRITE is a memcpy
     * into the peer's file, still mapped here after the peer died, and reports success. Confirmed WRITEs come with
     * the agent core's fenced writes (issue 10 items 5 and 7); set this to true when they are merged.
     */
    private static final boolean SHM_WRITES_CONFIRMED = true;
    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        // UCX over tcp on loopback only: reconnecting to a dead peer would also try its other (local) interfaces
        System.setProperty(UcxBackend.NET_DEVICES_PROPERTY, "lo");
    }

    @AfterAll
    static void stop() throws Exception {
        System.clearProperty(UcxBackend.NET_DEVICES_PROPERTY);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** How a transfer ended, waited for at most 3 × the promptness bound. */
    private record Outcome(boolean succeeded, Throwable error, long millis) {
        static Outcome of(TransferHandle h, long sinceNanos) throws InterruptedException {
            try {
                h.completion().get(3 * PROMPT_MILLIS, TimeUnit.MILLISECONDS);
                return new Outcome(true, null, elapsed(sinceNanos));
            } catch (ExecutionException e) {
                return new Outcome(false, e.getCause(), elapsed(sinceNanos));
            } catch (TimeoutException e) {
                return new Outcome(false, e, elapsed(sinceNanos));
            }
        }

        void assertFailedPromptly(String what, String peer) {
            if (succeeded) fail(what + " reported success although the peer was dead");
            assertInstanceOf(TransferException.class, error, what + " did not fail with a TransferException: " + error);
            assertTrue(millis < PROMPT_MILLIS, what + " failed only after " + millis + " ms: " + error.getMessage());
            assertTrue(error.getMessage().contains(peer), what + ": the error does not name " + peer + ": " + error.getMessage());
        }

        @Override
        public String toString() {
            return (succeeded ? "succeeded" : "failed: " + error) + " after " + millis + " ms";
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tcp", "shm", "ucx", "nixl"})
    void aPeerKilledDuringALargeWriteFailsItPromptly(String backend) throws Exception {
        assumeTrue(BackendAvailability.unavailable(backend).isEmpty(), () -> backend + ": " + BackendAvailability.unavailable(backend));
        String id = backend + "-" + ProcessHandle.current().pid();
        try (TransferAgent agent = TransferAgents.open(vertx, TransferConfig.of(backend, "survivor-" + id).withTimeout(TIMEOUT))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS)) {
            MemorySegment source = agent.register("source", LARGE).memory();
            Patterns.fill(source.asSlice(0, 4 * MIB), 7);
            List<MemoryDescriptor> all = List.of(new MemoryDescriptor(0, 0, LARGE));
            List<MemoryDescriptor> page = List.of(new MemoryDescriptor(0, 0, 4096));
            Outcome inFlight, next;
            String dead = "dying-" + id;
            try (Peer peer = Peer.start(backend, dead, LARGE)) {
                assertEquals(backend, agent.loadPeer(peer.metadata));
                agent.post(TransferOp.WRITE, page, dead, page, null).completion().get(30, TimeUnit.SECONDS);

                ProcessSignals.stop(peer.process);
                TransferHandle write = agent.post(TransferOp.WRITE, all, dead, all, null);
                TransferStatus before = write.status();
                ProcessSignals.kill(peer.process);
                long killed = System.nanoTime();
                inFlight = Outcome.of(write, killed);
                long again = System.nanoTime();
                next = Outcome.of(agent.post(TransferOp.WRITE, page, dead, page, null), again);
                System.out.println(backend + ": 256 MiB WRITE in flight (" + before + " when the kill landed) " + inFlight
                        + "; the next WRITE to the dead peer " + next);
                agent.forgetPeer(dead);
                if (!backend.equals("shm") || SHM_WRITES_CONFIRMED) {
                    assertNotEquals(TransferStatus.DONE, before, "a WRITE to a frozen peer cannot be complete");
                }
            }

            // the agent stays usable: a new peer is loaded and written to
            String fresh = "fresh-" + id;
            try (Peer peer = Peer.start(backend, fresh, 8 * MIB)) {
                assertEquals(backend, agent.loadPeer(peer.metadata));
                List<MemoryDescriptor> d = List.of(new MemoryDescriptor(0, 0, 4 * MIB));
                agent.post(TransferOp.WRITE, d, fresh, d, null).completion().get(30, TimeUnit.SECONDS);
                assertEquals(Patterns.crc(source.asSlice(0, 4 * MIB)), peer.crc(0, 4 * MIB));
            }

            assumeTrue(!backend.equals("shm") || SHM_WRITES_CONFIRMED, () -> "shm: WRITEs are not confirmed by the peer yet, "
                    + "so a WRITE into a dead peer's still-mapped file reports success (in flight: " + inFlight + "; next: " + next + ")");
            inFlight.assertFailedPromptly("the WRITE in flight", dead);
            next.assertFailedPromptly("the next WRITE", dead);
        }
    }

    private static long elapsed(long sinceNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinceNanos);
    }

    /** A {@link LargePeer} in its own JVM; every reply is awaited with a deadline. */
    private static final class Peer implements AutoCloseable {
        final Process process;
        final AgentMetadata metadata;
        private final String name;
        private final BufferedReader out;
        private final PrintWriter in;

        private Peer(String backend, String name, long bytes) throws Exception {
            this.name = name;
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
            Path log = Path.of("target", "peer-" + name + ".log");
            Files.createDirectories(log.getParent());
            List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m"));
            cmd.addAll(BackendAvailability.childJvmFlags());
            cmd.addAll(List.of("-cp", cp, LargePeer.class.getName(), backend, name, Long.toString(bytes)));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(log.toFile());
            pb.environment().put("UCX_NET_DEVICES", "lo");
            process = pb.start();
            out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
            String meta = line();
            if (meta == null || !meta.startsWith("META ")) {
                throw new IllegalStateException("peer did not start (" + meta + "), see " + log.toAbsolutePath());
            }
            metadata = AgentMetadata.fromJson(new JsonObject(meta.substring(5)));
        }

        static Peer start(String backend, String name, long bytes) throws Exception {
            return new Peer(backend, name, bytes);
        }

        long crc(long offset, long length) throws Exception {
            in.println("CRC " + offset + " " + length);
            String reply = line();
            if (reply == null || !reply.startsWith("CRC ")) throw new IllegalStateException("peer answered " + reply);
            return Long.parseLong(reply.substring(4));
        }

        private String line() throws Exception {
            return PeerProcess.readLine(out);
        }

        @Override
        public void close() throws Exception {
            PeerProcess.stop(process, in, name);
        }
    }
}
