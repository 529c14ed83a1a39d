package io.tandem.transfer;

import io.tandem.protocol.auth.TlsFiles;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.tandem.transfer.Agents.d;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Mutual TLS on the control channel, with a throwaway CA and member certificates made by the {@code openssl} CLI at
 * test time: members of the CA transfer; a client with a certificate from another CA, and a plaintext client, are
 * refused by the server (even though they know the cluster secret) and counted.
 */
class TlsTest {
    private static Vertx vertx;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static void openssl(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException(cmd + " failed: " + out);
    }

    private static boolean opensslPresent() {
        try {
            return new ProcessBuilder("openssl", "version").start().waitFor() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    /** A CA named {@code ca}: ca.pem, ca.key. */
    private static void ca(Path dir, String ca) throws Exception {
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "1", "-subj", "/CN=" + ca);
    }

    /** A member certificate signed by {@code ca}. */
    private static TlsFiles member(Path dir, String name, String ca, String trusted) throws Exception {
        openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name);
        openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
                "-out", name + ".pem", "-days", "1");
        return new TlsFiles(dir.resolve(name + ".pem"), dir.resolve(name + ".key"), dir.resolve(trusted + ".pem"));
    }

    @Test
    void membersOfTheCaTransferAndNobodyElseConnects(@TempDir Path dir) throws Exception {
        boolean present = opensslPresent();
        if (!present) System.out.println("TlsTest skipped: the openssl CLI is not installed");
        assumeTrue(present, "the openssl CLI is not installed");
        ca(dir, "ca");
        ca(dir, "rogue-ca");
        TlsFiles a = member(dir, "a", "ca", "ca"), b = member(dir, "b", "ca", "ca");
        // trusts the cluster's CA (so it accepts b's certificate) but presents one of another CA
        TlsFiles rogue = member(dir, "rogue", "rogue-ca", "ca");
        try (TransferAgent ta = Agents.open(vertx, "tcp", "tls-a", c -> c.withSecret(PeerProcess.secret()).withTls(a));
             TransferAgent tb = Agents.open(vertx, "tcp", "tls-b", c -> c.withSecret(PeerProcess.secret()).withTls(b));
             TransferAgent tr = Agents.open(vertx, "tcp", "tls-rogue", c -> c.withSecret(PeerProcess.secret()).withTls(rogue));
             TransferAgent plain = Agents.open(vertx, "tcp", "plain", c -> c.withSecret(PeerProcess.secret()))) {
            ta.register("r", 1 << 20).memory().fill((byte) 6);
            MemorySegment mb = tb.register("r", 1 << 20).memory();
            assertEquals("tcp", ta.loadPeer(tb.metadata()));
            ta.post(TransferOp.WRITE, List.of(d(0, 0, 1 << 20)), tb.name(), List.of(d(0, 0, 1 << 20)), null).completion().get(10, TimeUnit.SECONDS);
            assertEquals(6, mb.get(java.lang.foreign.ValueLayout.JAVA_BYTE, (1 << 20) - 1));

            TransferException e = assertThrows(TransferException.class, () -> tr.loadPeer(tb.metadata()));
            System.out.println("foreign CA: " + e.getMessage());
            e = assertThrows(TransferException.class, () -> plain.loadPeer(tb.metadata()));
            System.out.println("plaintext: " + e.getMessage());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (tb.stats().refused("tls") < 2 && System.nanoTime() < deadline) Thread.sleep(10);
            assertTrue(tb.stats().refused("tls") >= 2, "refused: " + tb.stats().refusedConnections());
        }
    }
}
