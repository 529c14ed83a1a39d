package io.tandem.worker;

import io.tandem.protocol.auth.TlsFiles;
import io.tandem.registry.RegistryOptions;
import io.tandem.registry.cluster.ClusterNode;
import io.tandem.registry.cluster.ClusterOptions;
import io.tandem.registry.cluster.HazelcastConfigs;
import io.tandem.registry.cluster.TandemCluster;
import io.tandem.transfer.TestCertificates;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code --tls-cert/--tls-key/--tls-ca} on the event bus: members whose certificates the cluster's CA signed exchange
 * messages over mutual TLS; a member that joined Hazelcast (whose own traffic stays plaintext) but holds a certificate
 * of another CA reaches nobody's event bus.
 */
class EventBusTlsTest {
    @Test
    void onlyHoldersOfACertificateOfTheClustersCaReachTheEventBus(@TempDir Path dir) throws Exception {
        boolean openssl = TestCertificates.available();
        if (!openssl) System.out.println("EventBusTlsTest skipped: the openssl CLI is not installed");
        assumeTrue(openssl, "the openssl CLI is not installed");
        TestCertificates.ca(dir, "ca");
        TestCertificates.ca(dir, "rogue-ca");
        TlsFiles a = TestCertificates.member(dir, "a", "ca", "ca"), b = TestCertificates.member(dir, "b", "ca", "ca");
        TlsFiles rogue = TestCertificates.member(dir, "rogue", "rogue-ca", "ca");

        HazelcastConfigs.LoopbackCluster cluster = HazelcastConfigs.newLoopbackCluster();
        List<ClusterNode> nodes = new ArrayList<>();
        try {
            List<Future<ClusterNode>> starting = new ArrayList<>();
            for (TlsFiles files : List.of(a, b, rogue)) {
                starting.add(TandemCluster.start(ClusterOptions.loopbackTest(cluster, RegistryOptions.withLease(3_000)).withTls(files)));
            }
            for (Future<ClusterNode> f : starting) nodes.add(f.await(90, TimeUnit.SECONDS));
            nodes.get(0).vertx().eventBus().<String>consumer("tls.echo", m -> m.reply("echo " + m.body())).completion()
                    .await(10, TimeUnit.SECONDS);

            DeliveryOptions quick = new DeliveryOptions().setSendTimeout(3_000);
            assertEquals("echo hi", nodes.get(1).vertx().eventBus().<String>request("tls.echo", "hi", quick)
                    .await(10, TimeUnit.SECONDS).body(), "a member of the CA reaches the consumer");
            Exception refused = assertThrows(Exception.class,
                    () -> nodes.get(2).vertx().eventBus().request("tls.echo", "hi", quick).await(10, TimeUnit.SECONDS));
            System.out.println("a certificate of another CA: " + refused);
            Throwable cause = refused instanceof ReplyException ? refused : refused.getCause();
            // a TIMEOUT: the consumer is known cluster-wide (no NO_HANDLERS), but the TLS handshake never let it through
            assertEquals(ReplyFailure.TIMEOUT, cause instanceof ReplyException re ? re.failureType() : null,
                    "the request timed out: " + refused);
        } finally {
            for (ClusterNode n : nodes) n.close().await(30, TimeUnit.SECONDS);
        }
    }
}
