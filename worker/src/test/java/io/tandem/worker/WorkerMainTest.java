package io.tandem.worker;

import org.junit.jupiter.api.Test;

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
        int code = main.commandLine().setOut(new PrintWriter(out)).setErr(new PrintWriter(err)).execute(args);
        assertNull(main.running, "nothing was started");
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void helpExitsZeroAndListsTheFlags() {
        Result r = run("--help");
        assertEquals(0, r.code());
        for (String flag : new String[] {"--role", "--model", "--engine", "--port", "--host", "-cluster", "-cluster-host", "-cluster-port", "--conf",
                "--advertise-host", "--transfer-port", "--cluster-secret-file", "--insecure-transfer", "--tls-cert", "--tls-key", "--tls-ca",
                "bench", "bench-model", "disagg-bench"}) {
            assertTrue(r.out().contains(flag), flag + " in\n" + r.out());
        }
        Result version = run("--version");
        assertEquals(0, version.code());
        assertTrue(version.out().startsWith("Tandem worker "), version.out());
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
        assertTrue(r.err().contains("'--role': must be one of prefill, decode, both, got 'router'"), r.err());
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
        assertTrue(r.err().contains("unknown key 'prot' in " + conf + "; known keys: "), r.err());
        Files.writeString(conf, "{\"role\": \"decode\", \"port\": \"eighty\"}");
        assertTrue(run("--conf", conf.toString()).err().contains(conf + ": 'port' must be a whole number 0..65535, got 'eighty'"));
        Files.writeString(conf, "not json");
        assertTrue(run("--conf", conf.toString()).err().contains("is not a JSON object"));
        assertTrue(run("--conf", dir.resolve("missing.json").toString()).err().contains("cannot read config file"));
    }

    @Test
    void anUnreadableOrShortSecretFileStopsTheWorkerNamingTheFlag(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Result r = run("-cluster", "--cluster-secret-file", dir.resolve("missing").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--cluster-secret-file: cannot read the cluster secret file"), r.err());
        Path shortSecret = dir.resolve("secret");
        Files.writeString(shortSecret, "too-short\n");
        r = run("-cluster", "--cluster-secret-file", shortSecret.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--cluster-secret-file: cluster secret file " + shortSecret + ": a cluster secret needs at least 16 bytes"), r.err());
    }

    @Test
    void tlsFilesGoTogether(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path cert = Files.writeString(dir.resolve("cert.pem"), "x");
        Result r = run("-cluster", "--tls-cert", cert.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--tls-cert, --tls-key and --tls-ca go together; missing: --tls-key, --tls-ca"), r.err());
    }

    @Test
    void parsedFlagsBecomeSettings(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path conf = Files.writeString(dir.resolve("worker.json"), "{\"role\": \"prefill\", \"transfer-port\": 7000}");
        WorkerMain main = new WorkerMain();
        main.commandLine().parseArgs("--conf", conf.toString(), "-cluster", "--advertise-host", "10.0.0.5", "--transfer-port", "7100",
                "--insecure-transfer", "--cluster-config", "classpath:cluster.xml");
        WorkerSettings s = main.settings();
        assertEquals(io.tandem.protocol.WorkerRole.PREFILL, s.options().role(), "from the file");
        assertEquals(7100, s.transferPort(), "the flag wins");
        assertEquals("10.0.0.5", s.advertiseHost());
        assertTrue(s.security().insecureTransfer());
        assertEquals("classpath:cluster.xml", s.clusterConfig());
        assertTrue(s.cluster());
    }

    @Test
    void aWildcardToAdvertiseStopsTheStartNamingTheFlag() {
        Result r = run("-cluster", "--host", "0.0.0.0", "--advertise-host", "0.0.0.0");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--advertise-host is 0.0.0.0, a wildcard"), r.err());
        r = run("-cluster", "-cluster-host", "0.0.0.0");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("-cluster-host is 0.0.0.0, a wildcard") && r.err().contains("Set --advertise-host"), r.err());
    }
}
