package io.tandem.transfer.ucx;

import io.tandem.transfer.AgentMetadata;
import io.tandem.transfer.BackendAvailability;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Starts {@link UcxPeerMain} in a separate JVM with UCX_TLS set, and talks its line protocol. */
final class UcxPeerProcess implements AutoCloseable {
    final Process process;
    final AgentMetadata metadata;
    private final BufferedReader out;
    private final PrintWriter in;

    UcxPeerProcess(String name, long size, String tls) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx512m"));
        cmd.addAll(BackendAvailability.childJvmFlags()); // the same UCX as this JVM's: NIXL's when it is configured
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), UcxPeerMain.class.getName(), name, Long.toString(size)));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        if (tls != null) pb.environment().put("UCX_TLS", tls);
        pb.environment().put("UCX_NET_DEVICES", "lo");
        process = pb.start();
        out = new BufferedReader(new InputStreamReader(process.getInputStream()));
        in = new PrintWriter(process.getOutputStream(), true);
        metadata = AgentMetadata.fromJson(new JsonObject(expect("META ")));
    }

    private String expect(String prefix) throws IOException {
        for (String line; (line = out.readLine()) != null; ) {
            if (line.startsWith(prefix)) return line.substring(prefix.length());
        }
        throw new IOException("peer exited (" + (process.isAlive() ? "alive" : "exit " + process.exitValue()) + ") before " + prefix.trim());
    }

    long sum(long offset, long length) throws IOException {
        in.println("sum " + offset + " " + length);
        return Long.parseLong(expect("SUM "));
    }

    void fill(long seed) throws IOException {
        in.println("fill " + seed);
        expect("OK");
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            in.println("quit");
            if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
        }
    }
}
