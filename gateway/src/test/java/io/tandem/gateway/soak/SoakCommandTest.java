package io.tandem.gateway.soak;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SoakCommandTest {
    @TempDir
    Path dir;

    private Soak.Settings parse(String... args) {
        SoakCommand command = new SoakCommand();
        new CommandLine(command).parseArgs(args);
        return command.settings();
    }

    private Path[] jars() throws IOException {
        Path gateway = Files.createFile(dir.resolve("gateway.jar")), worker = Files.createFile(dir.resolve("worker.jar"));
        return new Path[]{gateway, worker};
    }

    @Test
    void defaultsAreTenMinutesOfAThousandStreamsOnTheSimEngine() throws IOException {
        Path[] jars = jars();
        Soak.Settings s = parse("--gateway-jar", jars[0].toString(), "--seed", "4");
        assertEquals(1000, s.streams());
        assertEquals(Duration.ofMinutes(10), s.load());
        assertEquals(Duration.ofSeconds(60), s.warmup());
        assertEquals(jars[1], s.workerJar(), "worker.jar is found beside gateway.jar");
        assertEquals(List.of("--engine", "sim"), s.workerFlags());
        assertTrue(s.restart());
        assertEquals(4, s.seed());
    }

    @Test
    void theCiRunIsOneMinuteWithAShortWarmup() throws IOException {
        Path[] jars = jars();
        Soak.Settings s = parse("--gateway-jar", jars[0].toString(), "--minutes", "1", "--streams", "200",
                "--engine-option", "decodeStepNanos=3000000");
        assertEquals(Duration.ofMinutes(1), s.load());
        assertEquals(Duration.ofSeconds(15), s.warmup());
        assertEquals(List.of("--engine", "sim", "--engine-option", "decodeStepNanos=3000000"), s.workerFlags());
    }

    @Test
    void workerJarOfTheCheckoutIsFoundFromGatewayTarget() {
        Path gateway = dir.resolve("gateway/target/gateway.jar");
        assertEquals(dir.resolve("worker/target/worker.jar"), SoakCommand.besides(gateway));
    }

    @Test
    void badArgumentsAreRefusedWithWhatToFix() throws IOException {
        Path[] jars = jars();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> parse("--gateway-jar", dir.resolve("nope.jar").toString()));
        assertTrue(e.getMessage().contains("nope.jar") && e.getMessage().contains("--gateway-jar"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> parse("--gateway-jar", jars[0].toString(), "--streams", "0"));
        assertThrows(IllegalArgumentException.class, () -> parse("--gateway-jar", jars[0].toString(), "--minutes", "0"));
    }
}
