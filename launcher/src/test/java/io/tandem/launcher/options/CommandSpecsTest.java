package io.tandem.launcher.options;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import static io.tandem.launcher.options.TandemOptions.*;
import static org.junit.jupiter.api.Assertions.*;

class CommandSpecsTest {

    /** A command of {@code program} that records what it was given. */
    static final class Recorder implements Callable<Integer> {
        final Program program;
        CommandLine commandLine;
        Map<OptionDef<?>, Object> given;

        Recorder(Program program) {
            this.program = program;
            commandLine = new CommandLine(CommandSpecs.create(program, this, "Test 1.0", "A test command."));
        }

        @Override
        public Integer call() {
            given = CommandSpecs.given(commandLine.getParseResult(), program);
            return 0;
        }
    }

    record Run(int code, String out, String err, Map<OptionDef<?>, Object> given) {}

    private static Run run(Program p, String... args) {
        Recorder r = new Recorder(p);
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = r.commandLine.setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        return new Run(code, out.toString(), err.toString(), r.given);
    }

    @Test
    void flagsArriveTyped() {
        Run r = run(Program.GATEWAY, "--port", "0", "--model", "a.gguf", "--model", "b.gguf", "--engine-option", "kv-dtype=f16",
                "--no-kv-events", "-cluster", "--router-temperature", "0.5", "--api-key", "k1", "--api-key", "k2",
                "--cluster-secret-file", "/run/secret", "-cluster-port", "5701", "--max-body-bytes", "1024");
        assertEquals(0, r.code(), r.err());
        assertEquals(0, r.given().get(GATEWAY_PORT));
        assertEquals(List.of(Path.of("a.gguf"), Path.of("b.gguf")), r.given().get(MODEL));
        assertEquals(Map.of("kv-dtype", "f16"), r.given().get(ENGINE_OPTION));
        assertEquals(false, r.given().get(KV_EVENTS));
        assertEquals(true, r.given().get(CLUSTER));
        assertEquals(0.5, r.given().get(ROUTER_TEMPERATURE));
        assertEquals(List.of("k1", "k2"), r.given().get(API_KEY));
        assertEquals(Path.of("/run/secret"), r.given().get(CLUSTER_SECRET_FILE));
        assertEquals(5701, r.given().get(CLUSTER_PORT));
        assertEquals(1024L, r.given().get(MAX_BODY_BYTES));
        assertFalse(r.given().containsKey(GATEWAY_HOST), "only what was given");
    }

    @Test
    void helpListsEveryFlagWithItsDefaultAndVersionPrintsTheVersion() {
        for (Program p : Program.values()) {
            Run help = run(p, "--help");
            assertEquals(0, help.code());
            for (OptionDef<?> d : TandemOptions.of(p)) {
                assertTrue(help.out().contains(d.negatable() ? "--[no-]" + d.name() : d.flag()), d.flag() + " in\n" + help.out());
            }
            assertTrue(help.out().contains(p.jar()));
            Run version = run(p, "--version");
            assertEquals(0, version.code());
            assertEquals("Test 1.0", version.out().strip());
        }
        assertTrue(run(Program.WORKER, "--help").out().contains("(default: 127.0.0.1)"));
        assertTrue(run(Program.GATEWAY, "--help").out().contains("(default: 0.0.0.0)"));
    }

    @Test
    void aBadValueNamesTheFlagAndExitsTwo() {
        Run r = run(Program.WORKER, "--port", "70000");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("Invalid value for option '--port': must be a whole number 0..65535, got '70000'"), r.err());
        r = run(Program.WORKER, "--role", "router");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("'--role': must be one of prefill, decode, both, got 'router'"), r.err());
        assertEquals(2, run(Program.WORKER, "--no-such-flag").code());
        assertEquals(2, run(Program.GATEWAY, "--role", "decode").code(), "a worker flag is not a gateway flag");
    }
}
