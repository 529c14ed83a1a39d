package io.tandem.gateway;

import io.tandem.gateway.it.TestSupport;
import io.tandem.worker.WorkerMain;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
    private static final Pattern SERVICE = Pattern.compile("dockerfile: docker/Dockerfile\\.(gateway|worker)(.*?)(?=dockerfile:|\\z)",
            Pattern.DOTALL);
    private static final Pattern COMMAND = Pattern.compile("(?m)^\\s*command:\\s*(\\[.*])\\s*$");
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
        Matcher service = SERVICE.matcher(Files.readString(ROOT.resolve("docker/compose.yaml")));
        int services = 0;
        while (service.find()) {
            Matcher command = COMMAND.matcher(service.group(2));
            if (command.find()) commands.add(new Command(service.group(1), args(command.group(1))));
            services++;
        }
        assertTrue(services >= 3, "compose.yaml's services were found");
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
