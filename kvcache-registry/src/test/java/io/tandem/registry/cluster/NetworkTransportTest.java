package io.tandem.registry.cluster;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.junit.jupiter.api.Test;

import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Tandem's Vert.x runs on Netty's native epoll on the Linux machines the jars carry it for, and says so. */
class NetworkTransportTest {

    @Test
    void preferringNativeGivesEpollOnLinux() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT), arch = System.getProperty("os.arch");
        assumeTrue(os.contains("linux") && (arch.equals("amd64") || arch.equals("aarch64")),
                "epoll ships for Linux x86_64 and aarch64");
        Vertx vertx = Vertx.builder().with(NetworkTransport.preferNative(new VertxOptions())).build();
        try {
            assertTrue(vertx.isNativeTransportEnabled(),
                    "native transport unavailable: " + vertx.unavailableNativeTransportCause());
            assertEquals("epoll", NetworkTransport.describe(vertx));
        } finally {
            vertx.close().await();
        }
    }

    @Test
    void withoutAskingItIsNioAndTheLogSaysWhy() {
        Vertx vertx = Vertx.vertx();
        try {
            assertEquals("nio (native transport not requested)", NetworkTransport.describe(vertx));
        } finally {
            vertx.close().await();
        }
    }

    @Test
    void theClusterOptionsAskForIt() {
        assertTrue(TandemCluster.vertxOptions(ClusterOptions.defaults()).getPreferNativeTransport());
    }
}
