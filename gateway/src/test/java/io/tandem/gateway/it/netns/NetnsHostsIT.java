package io.tandem.gateway.it.netns;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The harness itself: hosts have their own hostname and IP, resolve each other by name, a server bound to 0.0.0.0 in
 * one host is that host's alone (as in a container), the test JVM reaches every host, and nothing is left behind —
 * neither by this run's close nor by a crashed earlier run (swept by the next).
 */
@Timeout(value = 90, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class NetnsHostsIT {
    private static final Path LOGS = ComposeTopology.ROOT.resolve("gateway/target/it-logs/netns-" + System.currentTimeMillis());
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void hostsAreSeparateMachinesOnOneBridgeAndCloseLeavesNothing() throws Exception {
        NetnsHosts hosts = NetnsHosts.create(LOGS, "alpha", "beta");
        NetnsHosts.Host alpha = hosts.host("alpha"), beta = hosts.host("beta");
        try {
            assertEquals("alpha", hosts.run("alpha", "hostname").orThrow().strip());
            assertEquals("beta", hosts.run("beta", "hostname").orThrow().strip());
            assertTrue(hosts.run("alpha", "getent", "hosts", "beta").orThrow().startsWith(beta.ip() + " "), "beta resolves to its IP in alpha");
            assertFalse(hosts.run("alpha", "ip", "-o", "-4", "addr").orThrow().contains(beta.ip() + "/"), "alpha has only its own IP");

            // the same port on 0.0.0.0 in both hosts: two servers, each answering with its host's name
            for (String h : List.of("alpha", "beta")) {
                Path dir = Files.createDirectories(LOGS.resolve("www-" + h));
                Files.writeString(dir.resolve("name.txt"), h);
                String java = ProcessHandle.current().info().command().orElse("java");
                hosts.start(h, "httpserver-" + h, List.of(java, "-m", "jdk.httpserver", "-b", "0.0.0.0", "-p", "8100",
                        "-d", dir.toString()), Map.of(), LOGS);
            }
            for (String h : List.of("alpha", "beta")) {
                String url = "http://" + hosts.ip(h) + ":8100/name.txt";
                assertEquals(h, awaitBody(url), "the test reaches " + h + " at its IP");
            }
            assertTrue(fetchInside(hosts, "alpha", "beta").endsWith("beta"), "alpha reaches beta by name");
            assertTrue(fetchInside(hosts, "alpha", "0.0.0.0").endsWith("alpha"), "0.0.0.0 inside alpha is alpha itself");
        } finally {
            hosts.close();
        }
        assertFalse(Commands.run("ip", "netns", "list").output().contains(alpha.namespace()), "namespace removed");
        assertFalse(Commands.run("ip", "-o", "link").output().contains(alpha.rootVeth()), "veth removed");
        assertFalse(Commands.run("ip", "-o", "link").output().contains("alias tandem-it pid=" + ProcessHandle.current().pid()),
                "bridge removed");
        assertFalse(Files.exists(Path.of("/etc/netns", alpha.namespace())), "/etc/netns entry removed");
    }

    @Test
    void leftoversOfADeadRunAreSweptAndALiveRunsAreNot() throws Exception {
        NetnsHosts.assumeSupported();
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        String dead = "tandem-it-" + gone.pid() + "-zzzzz-x", live = "tandem-it-" + ProcessHandle.current().pid() + "-live0-x";
        String deadBridge = "tdnzzzzzbr";
        try {
            Commands.run("ip", "netns", "add", dead).orThrow();
            Commands.run("ip", "netns", "add", live).orThrow();
            Commands.run("ip", "link", "add", deadBridge, "type", "bridge").orThrow();
            Commands.run("ip", "link", "set", "dev", deadBridge, "alias", "tandem-it pid=" + gone.pid()).orThrow();
            Files.createDirectories(Path.of("/etc/netns", dead));

            NetnsHosts.create(LOGS, "solo").close();

            String namespaces = Commands.run("ip", "netns", "list").output();
            assertFalse(namespaces.contains(dead), "the dead run's namespace is swept");
            assertFalse(Files.exists(Path.of("/etc/netns", dead)), "the dead run's /etc/netns entry is swept");
            assertFalse(Commands.run("ip", "-o", "link").output().contains(deadBridge), "the dead run's bridge is swept");
            assertTrue(namespaces.contains(live), "a live run's namespace stays");
        } finally {
            Commands.run("ip", "netns", "del", dead);
            Commands.run("ip", "netns", "del", live);
            Commands.run("ip", "link", "del", deadBridge);
            Files.deleteIfExists(Path.of("/etc/netns", dead));
        }
    }

    /** A GET from inside {@code host} to {@code target}:8100 through bash's /dev/tcp (no curl needed). */
    private static String fetchInside(NetnsHosts hosts, String host, String target) {
        return hosts.run(host, "bash", "-c", "exec 3<>/dev/tcp/" + target + "/8100 && printf 'GET /name.txt HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3")
                .orThrow().strip();
    }

    private String awaitBody(String url) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
            } catch (java.io.IOException e) {
                if (System.nanoTime() > deadline) throw new AssertionError(url + " never answered: " + e);
                Thread.sleep(100);
            }
        }
    }
}
