package io.tandem.gateway;

import io.tandem.gateway.it.TestSupport;
import io.tandem.worker.WorkerMain;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.Yaml;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The commands the images run (each Dockerfile's CMD, each compose service's command) parse with the shipped conf
 * files into settings: a renamed or removed flag, or a conf key the table no longer knows, fails here and not in a
 * container.
 */
class DockerCommandsTest {
    private static final Path ROOT = TestSupport.repoRoot();
    private static final Pattern CMD = Pattern.compile("(?m)^CMD\\s+(\\[.*])\\s*$");

    record Command(String jar, List<String> args) {}

    @Test
    void theImagesCommandsParseWithTheShippedConfFiles() throws Exception {
        List<Command> commands = new ArrayList<>();
        for (String jar : List.of("gateway", "worker")) {
            Matcher cmd = CMD.matcher(Files.readString(ROOT.resolve("docker/Dockerfile." + jar)));
            assertTrue(cmd.find(), "Dockerfile." + jar + " has a CMD [...]");
            commands.add(new Command(jar, args(cmd.group(1))));
        }
        Map<String, Object> compose = new Yaml().load(Files.readString(ROOT.resolve("docker/compose.yaml")));
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>) compose.get("services");
        for (var service : services.entrySet()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> build = (Map<String, Object>) service.getValue().get("build");
            String jar = build.get("dockerfile").toString().replace("docker/Dockerfile.", "");
            @SuppressWarnings("unchecked")
            List<Object> command = (List<Object>) service.getValue().get("command");
            assertTrue(command != null, service.getKey() + " has a command");
            commands.add(new Command(jar, command.stream().map(Object::toString).toList()));
        }
        assertEquals(3, services.size(), "compose.yaml's services were found");
        for (Command c : commands) {
            List<String> args = new ArrayList<>(c.args());
            args.addAll(List.of("--conf", ROOT.resolve("conf/" + c.jar() + ".json").toString())); // as in the image's WORKDIR
            String[] argv = args.toArray(String[]::new);
            if (c.jar().equals("gateway")) {
                GatewayMain main = new GatewayMain();
                main.commandLine().parseArgs(argv);
                assertTrue(main.options().cluster(), c + " joins the cluster");
            } else {
                WorkerMain main = new WorkerMain();
                main.commandLine().parseArgs(argv);
                assertTrue(main.settings().cluster(), c + " joins the cluster");
            }
        }
    }

    private static List<String> args(String flowSequence) {
        return new JsonArray(flowSequence).stream().map(Object::toString).toList();
    }
}
