package io.tandem.gateway;

import io.tandem.gateway.it.TestSupport;
import io.tandem.worker.WorkerMain;
import io.tandem.worker.WorkerSettings;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The container args of deploy/k8s's Deployments parse with the real command lines (and the image's conf files) into
 * settings, and each pod's terminationGracePeriodSeconds leaves room for its preStop pause plus the stop bound the
 * process itself enforces on SIGTERM (GatewayMain / WorkerMain.stopBound: drain, held prefills, teardown).
 */
class KubernetesCommandsTest {
    private static final Path ROOT = TestSupport.repoRoot();

    @Test
    @SuppressWarnings("unchecked")
    void theDeploymentsArgsParseAndTheirGracePeriodsCoverTheStopBound() throws Exception {
        int checked = 0;
        for (String file : List.of("gateway.yaml", "prefill.yaml", "decode.yaml")) {
            Map<String, Object> d = new Yaml().load(Files.readString(ROOT.resolve("deploy/k8s").resolve(file)));
            Map<String, Object> pod = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) d.get("spec"))
                    .get("template")).get("spec");
            Map<String, Object> container = ((List<Map<String, Object>>) pod.get("containers")).getFirst();
            String image = (String) container.get("image");
            String jar = image.substring(image.indexOf('/') + 1);
            List<String> args = new ArrayList<>();
            // $(POD_IP) is expanded by the kubelet from the downward API
            for (Object a : (List<Object>) container.get("args")) args.add(String.valueOf(a).replace("$(POD_IP)", "10.1.2.3"));
            args.addAll(List.of("--conf", ROOT.resolve("conf/" + jar + ".json").toString())); // the image's WORKDIR has conf/
            String[] argv = args.toArray(String[]::new);
            Duration bound;
            if (jar.equals("gateway")) {
                GatewayMain main = new GatewayMain();
                main.commandLine().parseArgs(argv);
                GatewayOptions options = main.options();
                assertTrue(options.cluster(), file + " joins the cluster");
                bound = GatewayMain.stopBound(options);
            } else {
                assertEquals("worker", jar, file + ": image " + image);
                WorkerMain main = new WorkerMain();
                main.commandLine().parseArgs(argv);
                WorkerSettings settings = main.settings();
                assertTrue(settings.cluster(), file + " joins the cluster");
                assertEquals("10.1.2.3", settings.advertiseHost(), file + " advertises the pod IP");
                bound = WorkerMain.stopBound(settings);
            }
            List<Object> preStop = (List<Object>) ((Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>)
                    container.get("lifecycle")).get("preStop")).get("exec")).get("command");
            long pause = Long.parseLong(String.valueOf(preStop.get(1)));
            long grace = ((Number) pod.get("terminationGracePeriodSeconds")).longValue();
            // the grace period runs from the start of preStop; SIGTERM comes after it
            assertTrue(grace >= pause + bound.toSeconds(), file + ": terminationGracePeriodSeconds " + grace
                    + " < preStop " + pause + " s + the process's stop bound " + bound.toSeconds() + " s: SIGKILL mid-stop");
            checked++;
        }
        assertEquals(3, checked);
    }
}
