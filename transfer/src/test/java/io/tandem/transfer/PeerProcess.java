package io.tandem.transfer;

import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** A {@link TestPeer} in a separate JVM with a given backend; every reply is awaited with a deadline (no hangs). */
final class PeerProcess implements AutoCloseable {
    private final String name;
    private final Process process;
    private final BufferedReader out;
    private final PrintWriter in;
    private final AgentMetadata metadata;

    /** The secret test agents share (see {@link #secret()}). */
    static final String SECRET = "transfer-tests-shared-secret-7f3a9c";

    static io.tandem.protocol.auth.ClusterSecret secret() {
        return io.tandem.protocol.auth.ClusterSecret.of(SECRET);
    }

    private PeerProcess(String backend, String name, String secret) throws Exception {
        this.name = name;
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m"));
        cmd.addAll(BackendAvailability.childJvmFlags());
        cmd.addAll(List.of("-cp", cp, TestPeer.class.getName(), backend, name));
        Path log = Path.of("target", "peer-" + name + ".log");
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(log.toFile());
        pb.environment().remove(io.tandem.protocol.auth.ClusterSecret.ENV);
        if (secret != null) pb.environment().put(io.tandem.protocol.auth.ClusterSecret.ENV, secret);
        process = pb.start();
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        String meta = line();
        if (meta == null || !meta.startsWith("META ")) {
            throw new IllegalStateException("peer did not start (" + meta + "), see " + log.toAbsolutePath());
        }
        metadata = AgentMetadata.fromJson(new JsonObject(meta.substring(5)));
    }

    /** A peer with the shared test secret. */
    static PeerProcess start(String backend, String name) throws Exception {
        return new PeerProcess(backend, name, SECRET);
    }

    /** A peer with the given secret ({@code null}: none). */
    static PeerProcess start(String backend, String name, String secret) throws Exception {
        return new PeerProcess(backend, name, secret);
    }

    String name() {
        return name;
    }

    AgentMetadata metadata() {
        return metadata;
    }

    /** Sends one command line and returns the peer's one-line answer. */
    String request(String command) throws Exception {
        in.println(command);
        return line();
    }

    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    private String line() throws Exception {
        return readLine(out);
    }

    /** The next line a peer process prints, or null when it ended; at most 30 s. */
    static String readLine(java.io.BufferedReader out) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                return null;
            }
        }).get(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        stop(process, in, name);
    }

    /** Ends a peer process (closing its input asks it to exit) and deletes the region files a killed one leaves. */
    static void stop(Process process, java.io.Closeable input, String agent) throws Exception {
        input.close();
        if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        try (Stream<Path> files = Files.list(Path.of("/dev/shm"))) {
            for (Path f : files.filter(p -> p.getFileName().toString().matches("tandem-\\d+-" + java.util.regex.Pattern.quote(agent) + "-.*")).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
