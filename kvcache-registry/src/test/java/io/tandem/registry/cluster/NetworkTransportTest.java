package io.tandem.registry.cluster;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.NetServer;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Tandem's Vert.x runs on Netty's native epoll on the Linux machines the jars carry it for, and says so. */
class NetworkTransportTest {

    @Test
    void preferringNativeGivesEpollOnLinux() {
        assumeEpoll();
        VertxOptions options = NetworkTransport.preferNative(new VertxOptions());
        Vertx vertx = NetworkTransport.builder(options, EventLoopPriority.NORMAL).build();
        try {
            assertTrue(vertx.isNativeTransportEnabled(),
                    "native transport unavailable: " + vertx.unavailableNativeTransportCause());
            assertEquals("epoll", NetworkTransport.describe(vertx));
        } finally {
            vertx.close().await();
        }
    }

    /**
     * Two connections' data ready together: the event loop reads one, runs the task its handler posted, and only then
     * reads the other (Netty's default epoll reads both first, then runs both tasks).
     */
    @Test
    void anEventLoopRunsWhatOneReadPostedBeforeItReadsTheNextConnection() throws Exception {
        assumeEpoll();
        VertxOptions oneLoop = NetworkTransport.preferNative(new VertxOptions().setEventLoopPoolSize(1));
        Vertx vertx = NetworkTransport.builder(oneLoop, EventLoopPriority.NORMAL).build();
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch bothConnected = new CountDownLatch(2), bothTasksRan = new CountDownLatch(2);
        try {
            NetServer server = vertx.createNetServer().connectHandler(socket -> {
                bothConnected.countDown();
                socket.handler(data -> {
                    String name = data.toString();
                    order.add("read " + name);
                    vertx.runOnContext(v -> {
                        order.add("task " + name);
                        bothTasksRan.countDown();
                    });
                });
            });
            int port = server.listen(0, "127.0.0.1").await().actualPort();
            try (Socket a = new Socket("127.0.0.1", port); Socket b = new Socket("127.0.0.1", port)) {
                assertTrue(bothConnected.await(10, TimeUnit.SECONDS), "connections not accepted");
                CountDownLatch loopHeld = new CountDownLatch(1), release = new CountDownLatch(1);
                vertx.runOnContext(v -> { // hold the only event loop while both connections' data arrives
                    loopHeld.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                assertTrue(loopHeld.await(10, TimeUnit.SECONDS), "event loop not held");
                try {
                    a.getOutputStream().write('a');
                    b.getOutputStream().write('b');
                } finally {
                    release.countDown(); // a failed write must not leave the loop held (close would wait for it)
                }
                assertTrue(bothTasksRan.await(10, TimeUnit.SECONDS), "tasks did not run: " + order);
            }
            List<String> seen = List.copyOf(order);
            assertEquals(4, seen.size(), seen.toString());
            for (int i = 0; i < 4; i += 2) {
                String name = seen.get(i).substring("read ".length());
                assertEquals(List.of("read " + name, "task " + name), seen.subList(i, i + 2), "order: " + seen);
            }
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

    private static void assumeEpoll() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT), arch = System.getProperty("os.arch");
        assumeTrue(os.contains("linux") && (arch.equals("amd64") || arch.equals("aarch64")),
                "epoll ships for Linux x86_64 and aarch64");
    }

    @Test
    void theClusterOptionsAskForIt() {
        assertTrue(TandemCluster.vertxOptions(ClusterOptions.defaults()).getPreferNativeTransport());
    }
}
