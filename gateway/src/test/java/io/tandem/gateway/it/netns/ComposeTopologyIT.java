package io.tandem.gateway.it.netns;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.tandem.gateway.it.TestSupport;
import io.tandem.transfer.nativelib.NixlHome;
import io.tandem.transfer.nixl.NixlBackend;
import io.tandem.transfer.ucx.UcxBackend;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tandem deployed as docker/compose.yaml deploys it, without Docker: gateway, prefill and decode worker each on its own
 * "host" (network namespace, hostname, IP on one bridge), every process binding {@code --host 0.0.0.0} on the compose
 * file's ports, Hazelcast members from {@code TANDEM_CLUSTER_MEMBERS}, the cluster secret from
 * {@code TANDEM_CLUSTER_SECRET}. Once per transfer backend (tcp, ucx, nixl; not shm):
 * <ul>
 *   <li>six prompts of 130–220 tokens are all prefilled remotely and their outputs equal an aggregated run's (an
 *       embedded gateway in this JVM), token for token; the prefill worker's /metrics count transfer bytes on that
 *       backend;</li>
 *   <li>a fourth host without the secret connects to the decode worker's transfer control port and tries to READ and
 *       overwrite its KV: both are refused, and the same six prompts (now prefix-cache hits on the decode worker) still
 *       give the aggregated output.</li>
 * </ul>
 * Needs root, {@code ip} and {@code unshare}; skips with the reason otherwise. Switches (system properties):
 * {@code tandem.it.transfers} (default {@code tcp,ucx,nixl}; nixl runs where NIXL is found and is required with {@code TANDEM_REQUIRE_NIXL=1}, as in CI), {@code tandem.it.ucx-tls} (the workers' {@code UCX_TLS};
 * default {@code tcp}, so UCX crosses the veths: by default it would use shared memory, /dev/shm being shared;
 * {@code default} leaves UCX's choice). The workers' transfer port is the compose file's fixed 8200, which the
 * attacker targets.
 */
@Timeout(value = 170, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ComposeTopologyIT {
    private static final Path MODEL = ComposeTopology.ROOT.resolve("testdata/models/tiny-llama-spm-f32.gguf");
    private static final int[] PROMPT_LENGTHS = {130, 148, 166, 184, 202, 220};
    private static final Pattern RESULT = Pattern.compile("RESULT read=(\\w+) write=(\\w+).*");
    /** Tandem's own log lines, startup lines and anything severe: Hazelcast's and the JDK's startup warnings are noise here. */
    private static final Pattern WORTH_SHOWING = Pattern.compile("\\[io\\.tandem|SEVERE|ERROR|Exception|^worker |^Tandem gateway|UCX");

    private static final HttpProbe HTTP = new HttpProbe();
    private static final Map<String, JsonArray> PROMPTS = prompts();
    private static Gateway aggregated;
    private static Map<String, String> expected;

    @BeforeAll
    static void aggregatedRun() throws Exception {
        NetnsHosts.assumeSupported(); // skip before spending a model load on the reference
        aggregated = TestSupport.start(new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0).setModels(List.of(MODEL))
                .setEngine("cpu").setEngineOptions(Map.of("threads", 1, "kv-cache-memory", "32MiB")).setPrefillWorkers(0));
        String base = "http://127.0.0.1:" + aggregated.port();
        expected = HTTP.complete(base, modelOf(base), PROMPTS);
    }

    @AfterAll
    static void stopAggregated() {
        if (aggregated != null) TestSupport.sync(aggregated.stop());
    }

    static Stream<String> transfers() {
        return Arrays.stream(System.getProperty("tandem.it.transfers", "tcp,ucx,nixl").split(",")).map(String::strip)
                .filter(s -> !s.isEmpty());
    }

    @ParameterizedTest(name = "--transfer {0}")
    @MethodSource("transfers")
    void composeTopologyGivesTheAggregatedTokensAndRefusesOutsiders(String transfer) throws Exception {
        Optional<String> why = switch (transfer) {
            case "ucx" -> UcxBackend.unavailableReason();
            case "nixl" -> NixlBackend.unavailableReason();
            default -> Optional.empty();
        };
        if (why.isPresent() && transfer.equals("nixl") && "1".equals(System.getenv("TANDEM_REQUIRE_NIXL"))) {
            throw new AssertionError("nixl is required in this run (TANDEM_REQUIRE_NIXL=1) but unavailable: " + why.get());
        }
        why.ifPresent(w -> System.out.println("SKIPPED --transfer " + transfer + ": " + w));
        Assumptions.assumeTrue(why.isEmpty(), () -> transfer + " is unavailable here: " + why.orElse(""));
        String ucxTls = System.getProperty("tandem.it.ucx-tls", "tcp");
        boolean usesUcx = transfer.equals("ucx") || transfer.equals("nixl");
        ComposeTopology.Settings settings = new ComposeTopology.Settings(MODEL, transfer, "it-" + UUID.randomUUID(),
                usesUcx && !ucxTls.equals("default") ? ucxTls : null,
                transfer.equals("nixl") ? NixlHome.configured().map(NixlHome::prefix).orElse(null) : null);
        Path logs = ComposeTopology.ROOT.resolve("gateway/target/it-logs/compose-" + transfer + "-" + System.currentTimeMillis());

        Phases phases = new Phases();
        try (NetnsHosts hosts = NetnsHosts.create(logs, "gateway", "prefill", "decode", "attacker")) {
            phases.done("hosts");
            ComposeTopology cluster = ComposeTopology.start(hosts, settings);
            String gateway = cluster.url("gateway"), prefill = cluster.url("prefill"), decode = cluster.url("decode");
            cluster.awaitReady(Duration.ofSeconds(90));
            phases.done("ready");
            String model = modelOf(gateway);
            awaitRemotePrefill(cluster, gateway, decode, model);
            phases.done("probe");

            double remoteBefore = remotePrefills(decode);
            double bytesBefore = HTTP.metric(prefill, "tandem_transfer_bytes_total", "backend=\"" + transfer + "\"");
            Map<String, String> actual = HTTP.complete(gateway, model, PROMPTS);
            double remote = remotePrefills(decode) - remoteBefore;
            double bytes = HTTP.metric(prefill, "tandem_transfer_bytes_total", "backend=\"" + transfer + "\"") - bytesBefore;
            phases.done("prompts");
            String diagnosis = diagnosis(hosts, cluster);

            double refusedBefore = refusedConnections(decode);
            int routeStatus = HTTP.status(decode + "/route"); // this JVM has no secret either
            HostProcess attacker = hosts.start("attacker", "attacker", attackerCommand("decode", ComposeTopology.TRANSFER_PORT),
                    Map.of(), logs);
            int exit = attacker.waitFor(60);
            Matcher result = RESULT.matcher(attacker.output().lines().filter(l -> l.startsWith("RESULT")).findFirst().orElse(""));
            double refused = refusedConnections(decode) - refusedBefore;
            phases.done("attack");
            Map<String, String> afterAttack = HTTP.complete(gateway, model, PROMPTS);
            phases.done("prompts again");

            String report = "--transfer " + transfer + (settings.ucxTls() != null ? " (UCX_TLS=" + settings.ucxTls() + ")" : "")
                    + ": " + matching(expected, actual) + " of " + PROMPTS.size() + " outputs equal the aggregated run; "
                    + remote + " prefilled remotely; " + bytes + " transfer bytes on " + transfer + "\n"
                    + differences(expected, actual) + diagnosis
                    + "\n---- attacker (exit " + exit + ") ----\n" + attacker.output()
                    + "the decode worker refused " + refused + " transfer connections; GET /route without the secret: " + routeStatus + "\n"
                    + "after the attack: " + matching(expected, afterAttack) + " of " + PROMPTS.size() + " outputs equal the aggregated run\n"
                    + "time: " + phases + "\n";
            System.out.println(report);
            assertAll(report,
                    () -> assertEquals(expected, actual, "disaggregated == aggregated, token for token"),
                    () -> assertEquals(PROMPTS.size(), remote, "every prompt was prefilled on the prefill worker"),
                    () -> assertTrue(bytes > 0, "the prefill worker counts transfer bytes on " + transfer),
                    () -> assertTrue(result.matches(), "the attacker ran to its RESULT line"),
                    () -> assertNotEquals("DATA", result.matches() ? result.group(1) : "?", "an outsider cannot READ KV"),
                    () -> assertNotEquals("ACK", result.matches() ? result.group(2) : "?", "an outsider cannot WRITE KV"),
                    () -> assertTrue(refused >= 2, "the decode worker counted the READ and the WRITE connection as refused"),
                    () -> assertEquals(401, routeStatus, "the transfer bootstrap (UCX rkeys included) is not served without the secret"),
                    () -> assertEquals(expected, afterAttack, "the victim's outputs are unchanged after the attack"));
        }
    }

    /** Wall time per phase, for the report (the IT should stay within a few minutes on a loaded 2-core machine). */
    private static final class Phases {
        private final StringBuilder text = new StringBuilder();
        private long last = System.nanoTime();

        void done(String phase) {
            long now = System.nanoTime();
            text.append(text.isEmpty() ? "" : ", ").append(phase).append(' ').append((now - last) / 1_000_000).append(" ms");
            last = now;
        }

        @Override
        public String toString() {
            return text.toString();
        }
    }

    /**
     * Waits until the decode worker sees the prefill worker (its registry view is not observable from outside): sends
     * distinct long probe prompts until one is prefilled remotely.
     */
    private static void awaitRemotePrefill(ComposeTopology cluster, String gateway, String decode, String model)
            throws InterruptedException {
        Random random = new Random(99);
        cluster.await("a probe prompt is prefilled remotely", Duration.ofSeconds(60), () -> {
            double before = remotePrefills(decode);
            try {
                HTTP.complete(gateway, model, Map.of("probe", randomPrompt(random, 140)));
            } catch (Exception e) {
                System.out.println("probe prompt: " + e);
            }
            return remotePrefills(decode) > before;
        });
    }

    private static double refusedConnections(String worker) {
        return HTTP.metric(worker, "tandem_transfer_refused_connections_total", "channel=\"control\"");
    }

    private static double remotePrefills(String decode) {
        return HTTP.metric(decode, "tandem_prefills_total", "where=\"remote\"");
    }

    private static List<String> attackerCommand(String target, int port) throws Exception {
        String classes = Path.of(TransferAttacker.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        String java = ProcessHandle.current().info().command().orElse("java");
        return List.of(java, "-Xmx64m", "-cp", classes, TransferAttacker.class.getName(), target, String.valueOf(port));
    }

    /** What each worker says of itself (/health), its transfer metrics, and the log lines about transfers and errors. */
    private static String diagnosis(NetnsHosts hosts, ComposeTopology cluster) {
        StringBuilder sb = new StringBuilder();
        for (String worker : List.of("prefill", "decode")) {
            String base = cluster.url(worker);
            sb.append("---- ").append(worker).append(" (").append(base).append(") ----\n");
            try {
                sb.append("/health: ").append(HTTP.getJson(base + "/health").encode()).append('\n');
            } catch (Exception e) {
                sb.append("/health: ").append(e).append('\n');
            }
            sb.append(HTTP.tandemMetrics(base).lines().filter(l -> l.contains("prefill") || l.contains("transfer_"))
                    .collect(Collectors.joining("\n"))).append('\n');
        }
        for (String service : ComposeTopology.SERVICES) {
            List<String> lines = cluster.process(service).output().lines().filter(l -> WORTH_SHOWING.matcher(l).find())
                    .filter(l -> !l.startsWith("\tat ")).toList();
            sb.append("---- ").append(service).append(" log (").append(cluster.process(service).log()).append("), ")
                    .append(lines.size()).append(" lines of interest ----\n");
            lines.stream().limit(40).forEach(l -> sb.append(l).append('\n'));
        }
        return sb.toString();
    }

    private static String modelOf(String base) throws Exception {
        return HTTP.getJson(base + "/v1/models").getJsonArray("data").getJsonObject(0).getString("id");
    }

    private static long matching(Map<String, String> expected, Map<String, String> actual) {
        return expected.entrySet().stream().filter(e -> e.getValue().equals(actual.get(e.getKey()))).count();
    }

    private static String differences(Map<String, String> expected, Map<String, String> actual) {
        StringBuilder sb = new StringBuilder();
        expected.forEach((name, tokens) -> {
            if (!tokens.equals(actual.get(name))) {
                sb.append(name).append(": aggregated ").append(tokens).append("\n").append(" ".repeat(name.length()))
                        .append("  compose    ").append(actual.get(name)).append('\n');
            }
        });
        return sb.toString();
    }

    /** Six token-id prompts of 130–220 tokens: all longer than the decode worker's 128-token local-prefill limit. */
    private static Map<String, JsonArray> prompts() {
        Random random = new Random(10);
        Map<String, JsonArray> out = new LinkedHashMap<>();
        for (int length : PROMPT_LENGTHS) out.put("p" + length, randomPrompt(random, length));
        return out;
    }

    private static JsonArray randomPrompt(Random random, int length) {
        JsonArray p = new JsonArray();
        random.ints(length, 10, 1000).forEach(p::add);
        return p;
    }
}
