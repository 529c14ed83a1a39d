package io.tandem.gateway.deploy;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import io.tandem.gateway.it.TestSupport;
import io.tandem.launcher.options.OptionDef;
import io.tandem.launcher.options.TandemOptions;
import io.tandem.registry.cluster.HazelcastConfigs;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * deploy/k8s, read as YAML the way Kustomize would take it (there is no maintained Kustomize Java API): every listed
 * file exists and parses; ports, probes and grace periods agree with the flags the containers get and Tandem's own
 * defaults ({@link TandemOptions}); the Hazelcast config the pods mount discovers the headless Service that selects
 * them; the cluster secret, /dev/shm, PodDisruptionBudgets and the planner-driven HorizontalPodAutoscalers are wired.
 * When kubectl is installed, {@code kubectl kustomize} renders the directory too.
 */
class DeployKubernetesTest {
    private static final Path DIR = TestSupport.repoRoot().resolve("deploy/k8s");
    /** Slack on top of the pre-stop pause, the drain and a remote prefill's timeout, for deregistration and exit. */
    private static final int GRACE_MARGIN_SECONDS = 10;
    private static final String PLANNER_GAUGE = "tandem_planner_recommended_workers";
    /** Each gateway's unrounded demand: the adapter sums it over the gateway replicas (docs/PLANNER.md). */
    private static final String PLANNER_DEMAND = "tandem_planner_demand_workers";
    private static final String SECRET_ENV = "TANDEM_CLUSTER_SECRET";

    private static Map<String, Object> kustomization;
    private static final List<Map<String, Object>> resources = new ArrayList<>();

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void read() throws IOException {
        kustomization = new Yaml().load(Files.readString(DIR.resolve("kustomization.yaml")));
        for (String file : (List<String>) kustomization.get("resources")) {
            Path path = DIR.resolve(file);
            assertTrue(Files.isRegularFile(path), "kustomization.yaml lists " + file + ", which does not exist");
            for (Object doc : new Yaml().loadAll(Files.readString(path))) {
                if (doc == null) continue;
                Map<String, Object> r = (Map<String, Object>) doc;
                assertNotNull(r.get("apiVersion"), file + ": a document without apiVersion");
                assertNotNull(r.get("kind"), file + ": a document without kind");
                assertNotNull(at(r, "metadata", "name"), file + ": a " + r.get("kind") + " without a name");
                resources.add(r);
            }
        }
    }

    @Test
    void theGatewayAndBothWorkerRolesAreDeployed() {
        assertEquals(List.of("tandem-decode", "tandem-gateway", "tandem-prefill"),
                all("Deployment").stream().map(DeployKubernetesTest::name).sorted().toList());
        assertEquals("prefill", arg(deployment("tandem-prefill"), "--role").orElseThrow());
        assertEquals("decode", arg(deployment("tandem-decode"), "--role").orElseThrow());
        for (Map<String, Object> d : all("Deployment")) assertTrue(args(d).contains("-cluster"), name(d) + " joins the cluster");
    }

    @Test
    void containerPortsAndProbesMatchTheFlagsAndTandemsDefaults() {
        checkPorts(deployment("tandem-gateway"), Map.of("http", TandemOptions.GATEWAY_PORT, "grpc", TandemOptions.GRPC_PORT,
                "eventbus", TandemOptions.CLUSTER_PORT));
        for (String worker : List.of("tandem-prefill", "tandem-decode")) {
            checkPorts(deployment(worker), Map.of("http", TandemOptions.WORKER_PORT, "transfer", TandemOptions.TRANSFER_PORT,
                    "eventbus", TandemOptions.CLUSTER_PORT));
        }
        int hazelcastPort = hazelcastConfig().getNetworkConfig().getPort();
        for (Map<String, Object> d : all("Deployment")) {
            assertEquals(hazelcastPort, containerPort(d, "hazelcast"), name(d) + ": the hazelcast port is cluster.xml's");
            assertEquals("0.0.0.0", arg(d, "--host").orElseThrow(), name(d) + " binds every interface of the pod");
            Map<String, Object> c = container(d);
            assertProbe(d, at(c, "livenessProbe"), "/health");
            assertProbe(d, at(c, "readinessProbe"), "/ready");
        }
    }

    @Test
    void theGracePeriodCoversThePreStopPauseTheDrainAndARemotePrefill() {
        for (Map<String, Object> d : all("Deployment")) {
            double drain = seconds(d, TandemOptions.DRAIN_TIMEOUT);
            double prefill = seconds(d, TandemOptions.PREFILL_TIMEOUT);
            List<?> preStop = (List<?>) at(container(d), "lifecycle", "preStop", "exec", "command");
            assertNotNull(preStop, name(d) + " pauses in preStop so the Service stops sending before the drain");
            assertEquals("sleep", preStop.get(0), name(d) + ": preStop " + preStop);
            int pause = Integer.parseInt(String.valueOf(preStop.get(1)));
            int grace = (Integer) at(d, "spec", "template", "spec", "terminationGracePeriodSeconds");
            double needed = pause + drain + prefill + GRACE_MARGIN_SECONDS;
            assertTrue(grace >= needed, name(d) + ": terminationGracePeriodSeconds " + grace + " < preStop " + pause
                    + " + drain " + drain + " + prefill timeout " + prefill + " + " + GRACE_MARGIN_SECONDS + ": SIGKILL mid-drain");
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyPodGetsTheKubernetesDiscoveryConfigAndItSelectsTheHeadlessServiceOfThosePods() {
        Config config = hazelcastConfig();
        JoinConfig join = config.getNetworkConfig().getJoin();
        assertTrue(join.getKubernetesConfig().isEnabled(), "Hazelcast's Kubernetes discovery is on");
        assertFalse(join.getTcpIpConfig().isEnabled() || join.getMulticastConfig().isEnabled(), "and the only discovery");
        assertTrue(config.getMultiMapConfigs().containsKey(HazelcastConfigs.VERTX_SUBS), "Vert.x needs " + HazelcastConfigs.VERTX_SUBS);
        for (String map : HazelcastConfigs.VERTX_MAPS) assertTrue(config.getMapConfigs().containsKey(map), "Vert.x needs " + map);

        String serviceName = join.getKubernetesConfig().getProperty("service-name");
        Map<String, Object> service = named("Service", serviceName);
        assertEquals("None", at(service, "spec", "clusterIP"), serviceName + " is headless");
        assertEquals(Boolean.TRUE, at(service, "spec", "publishNotReadyAddresses"), "members discover each other before they are ready");
        Map<String, Object> selector = (Map<String, Object>) at(service, "spec", "selector");
        String configMap = configMapName();
        for (Map<String, Object> d : all("Deployment")) {
            Map<String, Object> labels = (Map<String, Object>) at(d, "spec", "template", "metadata", "labels");
            assertTrue(labels.entrySet().containsAll(selector.entrySet()), serviceName + "'s selector " + selector
                    + " does not select the pods of " + name(d) + " " + labels);
            Path configFile = Path.of(arg(d, TandemOptions.CLUSTER_CONFIG.flag()).orElseThrow(
                    () -> new AssertionError(name(d) + " passes no " + TandemOptions.CLUSTER_CONFIG.flag())));
            String volume = volumeMountedAt(d, configFile.getParent().toString());
            assertEquals(configMap, at(volumeNamed(d, volume), "configMap", "name"), name(d) + " mounts the Hazelcast ConfigMap");
            assertEquals(containerPort(d, "hazelcast"), intValue(servicePort(service, "hazelcast").get("port")));
        }
        assertEquals("tandem", name(named("ServiceAccount", serviceAccount())));
    }

    @Test
    @SuppressWarnings("unchecked")
    void theDiscoveryServiceAccountMayListEndpointsAndPods() {
        String account = serviceAccount();
        for (Map<String, Object> d : all("Deployment")) {
            assertEquals(account, at(d, "spec", "template", "spec", "serviceAccountName"), name(d) + " runs as " + account);
        }
        Map<String, Object> binding = all("RoleBinding").stream()
                .filter(b -> ((List<Map<String, Object>>) b.get("subjects")).stream().anyMatch(s -> account.equals(s.get("name"))))
                .findFirst().orElseThrow(() -> new AssertionError("no RoleBinding for ServiceAccount " + account));
        Map<String, Object> role = named("Role", (String) at(binding, "roleRef", "name"));
        for (String resource : List.of("endpoints", "pods")) {
            boolean granted = ((List<Map<String, Object>>) role.get("rules")).stream().anyMatch(r ->
                    ((List<String>) r.get("resources")).contains(resource) && ((List<String>) r.get("verbs")).containsAll(List.of("get", "list")));
            assertTrue(granted, "Role " + name(role) + " lets Hazelcast get and list " + resource);
        }
    }

    @Test
    void theClusterSecretComesFromTheSecretTheReadmeTellsToCreate() throws IOException {
        String readme = Files.readString(TestSupport.repoRoot().resolve("README.md"));
        for (Map<String, Object> d : all("Deployment")) {
            Map<String, Object> ref = secretRef(d, SECRET_ENV);
            String create = "create secret generic " + ref.get("name") + " --from-literal=" + ref.get("key") + "=";
            assertTrue(readme.contains(create), "README.md shows `kubectl -n tandem " + create + "…` for " + name(d));
        }
    }

    @Test
    void workersKeepTheirKvCacheInAMemoryBackedDevShm() {
        for (String worker : List.of("tandem-prefill", "tandem-decode")) {
            Map<String, Object> d = deployment(worker);
            Map<String, Object> volume = volumeNamed(d, volumeMountedAt(d, "/dev/shm"));
            assertEquals("Memory", at(volume, "emptyDir", "medium"), worker + ": /dev/shm is a memory-backed emptyDir");
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyDeploymentHasADisruptionBudget() {
        for (Map<String, Object> d : all("Deployment")) {
            Map<String, Object> labels = (Map<String, Object>) at(d, "spec", "template", "metadata", "labels");
            assertTrue(all("PodDisruptionBudget").stream().anyMatch(p -> labels.entrySet().containsAll(
                    ((Map<String, Object>) at(p, "spec", "selector", "matchLabels")).entrySet())), "a PodDisruptionBudget for " + name(d));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void workerPoolsScaleOnThePlannersRecommendationServedByPrometheusAdapter() throws IOException {
        Map<String, Object> adapter = new Yaml().load(Files.readString(DIR.resolve("prometheus-adapter/values.yaml")));
        List<Map<String, Object>> external = (List<Map<String, Object>>) at(adapter, "rules", "external");
        Map<String, Object> rule = external.stream().filter(r -> PLANNER_GAUGE.equals(at(r, "name", "as"))).findFirst()
                .orElseThrow(() -> new AssertionError("prometheus-adapter serves no external metric " + PLANNER_GAUGE));
        assertEquals(java.util.Set.of(PLANNER_DEMAND), PromQlMetricNames.of((String) rule.get("seriesQuery")));
        assertTrue(((String) rule.get("metricsQuery")).contains("sum by (role)"),
                "the adapter adds up the gateways' demands and keeps the role label");

        for (String role : List.of("prefill", "decode")) {
            Map<String, Object> hpa = all("HorizontalPodAutoscaler").stream()
                    .filter(h -> ("tandem-" + role).equals(at(h, "spec", "scaleTargetRef", "name"))).findFirst()
                    .orElseThrow(() -> new AssertionError("no HorizontalPodAutoscaler scales tandem-" + role));
            deployment((String) at(hpa, "spec", "scaleTargetRef", "name"));
            Map<String, Object> metric = ((List<Map<String, Object>>) at(hpa, "spec", "metrics")).getFirst();
            assertEquals("External", metric.get("type"));
            assertEquals(PLANNER_GAUGE, at(metric, "external", "metric", "name"));
            assertEquals(Map.of("role", role), at(metric, "external", "metric", "selector", "matchLabels"));
            assertEquals("AverageValue", at(metric, "external", "target", "type"));
            assertEquals("1", String.valueOf(at(metric, "external", "target", "averageValue")), "replicas = the recommendation");
        }
    }

    @Test
    void kubectlKustomizeRendersTheDirectory() throws Exception {
        Optional<Path> kubectl = DeployedMetricsTest.onPath("kubectl");
        Assumptions.assumeTrue(kubectl.isPresent(), "kubectl is not installed: rendering with Kustomize itself skipped");
        Process p = new ProcessBuilder(kubectl.get().toString(), "kustomize", DIR.toString()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize finished");
        String rendered = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), rendered);
        long documents = 0;
        for (Object doc : new Yaml().loadAll(rendered)) if (doc != null) documents++;
        assertEquals(resources.size() + 1, documents, "every resource and the generated ConfigMap:\n" + rendered);
        assertTrue(rendered.contains("namespace: tandem"), rendered);
    }

    // ---- helpers

    private static void checkPorts(Map<String, Object> d, Map<String, OptionDef<Integer>> portsByName) {
        portsByName.forEach((portName, option) -> {
            Optional<String> given = arg(d, option.flag()).or(() -> option.aliases().stream()
                    .map(a -> arg(d, a)).flatMap(Optional::stream).findFirst());
            int port = given.map(Integer::parseInt).orElse(option.defaultValue());
            assertTrue(port > 0, name(d) + ": " + option.flag() + " must be a fixed port for the " + portName + " container port");
            assertEquals(port, containerPort(d, portName), name(d) + ": container port " + portName + " vs " + option.flag());
        });
    }

    private static void assertProbe(Map<String, Object> d, Object probe, String path) {
        assertNotNull(probe, name(d) + " has a probe on " + path);
        assertEquals(path, at(probe, "httpGet", "path"), name(d));
        Object port = at(probe, "httpGet", "port");
        int number = port instanceof Integer i ? i : containerPort(d, (String) port);
        assertEquals(containerPort(d, "http"), number, name(d) + ": " + path + " is served on the HTTP port");
    }

    private static double seconds(Map<String, Object> d, OptionDef<Double> option) {
        return arg(d, option.flag()).map(Double::parseDouble).orElse(option.defaultValue());
    }

    private static Config hazelcastConfig() {
        return HazelcastConfigs.fromFile(DIR.resolve(configMapFile()));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> configMapGenerator() {
        List<Map<String, Object>> generators = (List<Map<String, Object>>) kustomization.get("configMapGenerator");
        assertNotNull(generators, "kustomization.yaml generates the Hazelcast ConfigMap");
        assertEquals(Boolean.TRUE, at(kustomization, "generatorOptions", "disableNameSuffixHash"),
                "the ConfigMap keeps the name the Deployments mount");
        return generators.getFirst();
    }

    private static String configMapName() {
        return (String) configMapGenerator().get("name");
    }

    @SuppressWarnings("unchecked")
    private static String configMapFile() {
        String file = ((List<String>) configMapGenerator().get("files")).getFirst();
        assertTrue(Files.isRegularFile(DIR.resolve(file)), "the ConfigMap's file " + file + " exists");
        return file;
    }

    private static String serviceAccount() {
        return name(all("ServiceAccount").getFirst());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> secretRef(Map<String, Object> d, String env) {
        for (Map<String, Object> e : (List<Map<String, Object>>) container(d).get("env")) {
            if (env.equals(e.get("name"))) {
                Object ref = at(e, "valueFrom", "secretKeyRef");
                assertNotNull(ref, name(d) + ": " + env + " comes from a Secret");
                return (Map<String, Object>) ref;
            }
        }
        throw new AssertionError(name(d) + " has no " + env);
    }

    @SuppressWarnings("unchecked")
    private static String volumeMountedAt(Map<String, Object> d, String mountPath) {
        return ((List<Map<String, Object>>) container(d).get("volumeMounts")).stream()
                .filter(m -> mountPath.equals(m.get("mountPath"))).map(m -> (String) m.get("name")).findFirst()
                .orElseThrow(() -> new AssertionError(name(d) + " mounts nothing at " + mountPath));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> volumeNamed(Map<String, Object> d, String volume) {
        return ((List<Map<String, Object>>) at(d, "spec", "template", "spec", "volumes")).stream()
                .filter(v -> volume.equals(v.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError(name(d) + " has no volume " + volume));
    }

    @SuppressWarnings("unchecked")
    private static int containerPort(Map<String, Object> d, String portName) {
        return ((List<Map<String, Object>>) container(d).get("ports")).stream().filter(p -> portName.equals(p.get("name")))
                .map(p -> intValue(p.get("containerPort"))).findFirst()
                .orElseThrow(() -> new AssertionError(name(d) + " declares no container port named " + portName));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> servicePort(Map<String, Object> service, String portName) {
        return ((List<Map<String, Object>>) at(service, "spec", "ports")).stream().filter(p -> portName.equals(p.get("name")))
                .findFirst().orElseThrow(() -> new AssertionError(name(service) + " has no port " + portName));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> container(Map<String, Object> d) {
        List<Map<String, Object>> containers = (List<Map<String, Object>>) at(d, "spec", "template", "spec", "containers");
        assertEquals(1, containers.size(), name(d) + " runs one container");
        return containers.getFirst();
    }

    @SuppressWarnings("unchecked")
    private static List<String> args(Map<String, Object> d) {
        return ((List<Object>) container(d).get("args")).stream().map(String::valueOf).toList();
    }

    /** The value after {@code flag} in the container's args. */
    private static Optional<String> arg(Map<String, Object> d, String flag) {
        List<String> args = args(d);
        int i = args.indexOf(flag);
        if (i < 0) return Optional.empty();
        if (i + 1 >= args.size()) fail(name(d) + ": " + flag + " without a value");
        return Optional.of(args.get(i + 1));
    }

    private static int intValue(Object o) {
        return o instanceof Integer i ? i : Integer.parseInt(String.valueOf(o));
    }

    private static List<Map<String, Object>> all(String kind) {
        return resources.stream().filter(r -> kind.equals(r.get("kind"))).toList();
    }

    private static Map<String, Object> deployment(String name) {
        return named("Deployment", name);
    }

    private static Map<String, Object> named(String kind, String name) {
        return all(kind).stream().filter(r -> name.equals(name(r))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " named " + name + " in deploy/k8s"));
    }

    private static String name(Map<String, Object> r) {
        return (String) at(r, "metadata", "name");
    }

    @SuppressWarnings("unchecked")
    private static Object at(Object node, String... path) {
        Object at = node;
        for (String key : path) {
            if (!(at instanceof Map<?, ?> m)) return null;
            at = ((Map<String, Object>) m).get(key);
        }
        return at;
    }

}
