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

    @Test
    void membersOfTheCaTransferAndNobodyElseConnects(@TempDir Path dir) throws Exception {
        boolean present = TestCertificates.available();
        if (!present) System.out.println("TlsTest skipped: the openssl CLI is not installed");
        assumeTrue(present, "the openssl CLI is not installed");
        TestCertificates.ca(dir, "ca");
        TestCertificates.ca(dir, "rogue-ca");
        TlsFiles a = TestCertificates.member(dir, "a", "ca", "ca"), b = TestCertificates.member(dir, "b", "ca", "ca");
        // trusts the cluster's CA (so it accepts b's certificate) but presents one of another CA
        TlsFiles rogue = TestCertificates.member(dir, "rogue", "rogue-ca", "ca");
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
            // the refusing side counts after the client gave up: poll its count
            Await.until(Await.DEFAULT, () -> tb.stats().refused("tls") >= 2, () -> "refused: " + tb.stats().refusedConnections());
        }
    }
}
