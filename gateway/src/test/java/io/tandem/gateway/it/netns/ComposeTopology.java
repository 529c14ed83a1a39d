package io.tandem.gateway.it.netns;

import io.tandem.gateway.it.TestSupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * docker/compose.yaml's services on {@link NetnsHosts}: a gateway on host "gateway" and a prefill and a decode worker
 * on hosts "prefill" and "decode", each {@code java -jar} with the compose file's arguments ({@code -cluster
 * -cluster-host <service> --host 0.0.0.0 --port 8000|8100 [--role …]}), {@code TANDEM_CLUSTER_MEMBERS=gateway,prefill,decode},
 * in the repository root (which has the image's {@code conf/}), plus the test's model ({@code --model} on all three:
 * compose runs the bundled one everywhere), engine and transfer flags.
 */
final class ComposeTopology {
    static final Path ROOT = TestSupport.repoRoot();
    static final int GATEWAY_PORT = 8000;
    static final int WORKER_PORT = 8100;
    /** The workers' transfer control port ({@code --transfer-port}), as in the compose file. */
    static final int TRANSFER_PORT = 8200;
    static final List<String> SERVICES = List.of("gateway", "prefill", "decode");

    /**
     * What varies between runs.
     *
     * @param transfer          the workers' {@code --transfer} backend
     * @param secret            {@code TANDEM_CLUSTER_SECRET} of all three processes, or null for none
     * @param ucxTls            {@code UCX_TLS} of the workers (ucx, and nixl's UCX plugin), or null for UCX's own choice
     * @param nixlHome          the workers' {@code --nixl-home}, or null
     */
    record Settings(Path model, String transfer, String secret, String ucxTls, Path nixlHome) {
    }

    private final NetnsHosts hosts;
    private final Map<String, HostProcess> processes = new LinkedHashMap<>();
    private final HttpProbe http = new HttpProbe();

    private ComposeTopology(NetnsHosts hosts) {
        this.hosts = hosts;
    }

    static ComposeTopology start(NetnsHosts hosts, Settings s) throws IOException {
        ComposeTopology t = new ComposeTopology(hosts);
        List<String> engine = new ArrayList<>(List.of("--model", s.model().toString(), "--threads", "1",
                "--engine-option", "kv-cache-memory=32MiB", "--transfer", s.transfer(),
                "--transfer-port", String.valueOf(TRANSFER_PORT)));
        if (s.nixlHome() != null) engine.addAll(List.of("--nixl-home", s.nixlHome().toString()));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("TANDEM_CLUSTER_MEMBERS", String.join(",", SERVICES));
        if (s.secret() != null) env.put("TANDEM_CLUSTER_SECRET", s.secret());
        Map<String, String> workerEnv = new LinkedHashMap<>(env);
        if (s.ucxTls() != null) workerEnv.put("UCX_TLS", s.ucxTls());
        t.launch("prefill", "worker/target/worker.jar", workerEnv, concat(List.of("-cluster", "-cluster-host", "prefill",
                "--role", "prefill", "--host", "0.0.0.0", "--port", String.valueOf(WORKER_PORT)), engine));
        t.launch("decode", "worker/target/worker.jar", workerEnv, concat(List.of("-cluster", "-cluster-host", "decode",
                "--role", "decode", "--host", "0.0.0.0", "--port", String.valueOf(WORKER_PORT)), engine));
        // the gateway serves the models it is given (default: the bundled one), so it names the workers' model too
        t.launch("gateway", "gateway/target/gateway.jar", env, List.of("-cluster", "-cluster-host", "gateway",
                "--host", "0.0.0.0", "--port", String.valueOf(GATEWAY_PORT), "--model", s.model().toString()));
        return t;
    }

    /** {@code http://<service IP>:<port>}, as the test (in the root namespace) reaches it. */
    String url(String service) {
        return "http://" + hosts.ip(service) + ":" + (service.equals("gateway") ? GATEWAY_PORT : WORKER_PORT);
    }

    HostProcess process(String service) {
        return processes.get(service);
    }

    /** The gateway and both workers answer /ready. */
    void awaitReady(Duration within) throws InterruptedException {
        for (String service : SERVICES) {
            await(service + " is ready", within, () -> http.status(url(service) + "/ready") == 200);
        }
    }

    /** Polls {@code condition} every 100 ms until it holds, failing with every log when a process dies or time runs out. */
    void await(String what, Duration within, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            for (HostProcess p : processes.values()) {
                if (!p.isAlive()) throw new AssertionError(p.name() + " exited while waiting until " + what + "\n" + hosts.logs());
            }
            if (condition.getAsBoolean()) return;
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + within + " waiting until " + what + "\n" + hosts.logs());
            Thread.sleep(100);
        }
    }

    private void launch(String service, String jar, Map<String, String> env, List<String> args) throws IOException {
        Path jarPath = ROOT.resolve(jar);
        if (!Files.isRegularFile(jarPath)) {
            throw new IllegalStateException(jarPath + " is missing: build the jars first "
                    + "(./tandem mvn -q -o -pl gateway -am package -DskipTests)");
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        // a plain java -jar, as the design card types it (the jar restarts itself with the Vector API and native access)
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx384m",
                "-Djava.util.logging.config.file=conf/logging.properties", "-jar", jarPath.toString()));
        cmd.addAll(args);
        processes.put(service, hosts.start(service, service, cmd, env, ROOT));
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
