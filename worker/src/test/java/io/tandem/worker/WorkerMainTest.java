package io.tandem.worker;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class WorkerMainTest {
    record Result(int code, String out, String err) {}

    private static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        WorkerMain main = new WorkerMain();
        int code = new CommandLine(main).setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        assertNull(main.running, "nothing was started");
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void helpExitsZeroAndListsTheFlags() {
        Result r = run("--help");
        assertEquals(0, r.code());
        for (String flag : new String[] {"--role", "--model", "--engine", "--port", "--host", "-cluster", "-cluster-host", "-cluster-port", "--conf"}) {
            assertTrue(r.out().contains(flag), flag + " in\n" + r.out());
        }
    }

    @Test
    void anUnknownEngineIsAClearError() {
        Result r = run("-cluster", "--engine", "llama.cpp");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown engine 'llama.cpp'") && r.err().contains("available engines: cpu, sim"), r.err());
    }

    @Test
    void anUnknownRoleIsAClearError() {
        Result r = run("-cluster", "--role", "router");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("roles: prefill, decode, both"), r.err());
    }

    @Test
    void withoutClusterTheUserIsToldToAddIt() {
        Result r = run("--role", "decode");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("add -cluster"), r.err());
    }

    @Test
    void aBrokenConfigFileIsAClearError(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path conf = dir.resolve("worker.json");
        Files.writeString(conf, "{\"role\": \"decode\", \"prot\": 8080}");
        Result r = run("--conf", conf.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("unknown key 'prot'"), r.err());
        Files.writeString(conf, "not json");
        assertTrue(run("--conf", conf.toString()).err().contains("is not a JSON object"));
        assertTrue(run("--conf", dir.resolve("missing.json").toString()).err().contains("cannot read config file"));
    }
}
