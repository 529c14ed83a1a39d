package io.tandem.registry.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.XmlConfigBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HazelcastConfigsTest {

    static Path repoRoot() {
        String prop = System.getProperty("tandem.repo.root");
        if (prop != null) {
            return Path.of(prop);
        }
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("testdata"))) {
            dir = dir.getParent();
        }
        return dir;
    }

    @Test
    void confClusterXmlIsTheBundledFile() throws Exception {
        byte[] conf = Files.readAllBytes(repoRoot().resolve("conf/cluster.xml"));
        try (InputStream bundled = HazelcastConfigs.class.getClassLoader().getResourceAsStream(HazelcastConfigs.BUNDLED_RESOURCE)) {
            assertNotNull(bundled);
            assertArrayEquals(bundled.readAllBytes(), conf,
                    "conf/cluster.xml must equal kvcache-registry/src/main/resources/tandem-cluster.xml (the source): copy it over");
        }
    }

    @Test
    void confClusterXmlParsesAndKeepsWhatVertxAndTandemNeed() throws Exception {
        Config config;
        try (InputStream in = Files.newInputStream(repoRoot().resolve("conf/cluster.xml"))) {
            config = new XmlConfigBuilder(in).build();
        }
        MultiMapConfig subs = config.getMultiMapConfigs().get(HazelcastConfigs.VERTX_SUBS);
        assertNotNull(subs, "__vertx.subs multimap");
        assertEquals(MultiMapConfig.ValueCollectionType.SET, subs.getValueCollectionType());
        for (String map : HazelcastConfigs.VERTX_MAPS) {
            assertTrue(config.getMapConfigs().containsKey(map), map);
        }
        assertTrue(config.getMapConfigs().containsKey("tandem.workers"));
        JoinConfig join = config.getNetworkConfig().getJoin();
        assertFalse(join.getMulticastConfig().isEnabled(), "multicast off");
        assertFalse(join.getAutoDetectionConfig().isEnabled(), "auto-detection off");
        assertTrue(join.getTcpIpConfig().isEnabled());
        assertEquals(List.of("127.0.0.1"), join.getTcpIpConfig().getMembers());
        assertEquals(5701, config.getNetworkConfig().getPort());
        assertTrue(config.getNetworkConfig().isPortAutoIncrement());
        assertEquals(List.of("127.0.0.1"), List.copyOf(config.getNetworkConfig().getInterfaces().getInterfaces()));
        assertEquals("false", config.getProperty("hazelcast.phone.home.enabled"));
    }

    @Test
    void overridesReplaceMembersInterfaceNameAndPort() {
        Config c = HazelcastConfigs.applyOverrides(HazelcastConfigs.bundled(), Map.of(
                HazelcastConfigs.Override.MEMBERS, "10.0.0.5, 10.0.0.6:5801",
                HazelcastConfigs.Override.NAME, "prod-a",
                HazelcastConfigs.Override.PORT, "5801")::get);
        assertEquals(List.of("10.0.0.5", "10.0.0.6:5801"), c.getNetworkConfig().getJoin().getTcpIpConfig().getMembers());
        assertFalse(c.getNetworkConfig().getInterfaces().isEnabled(), "members elsewhere lift the loopback-only interface");
        assertEquals("prod-a", c.getClusterName());
        assertEquals(5801, c.getNetworkConfig().getPort());

        Config withIface = HazelcastConfigs.applyOverrides(HazelcastConfigs.bundled(), Map.of(
                HazelcastConfigs.Override.MEMBERS, "10.0.0.5",
                HazelcastConfigs.Override.INTERFACE, "10.0.0.*")::get);
        assertTrue(withIface.getNetworkConfig().getInterfaces().isEnabled());
        assertEquals(List.of("10.0.0.*"), List.copyOf(withIface.getNetworkConfig().getInterfaces().getInterfaces()));

        Config untouched = HazelcastConfigs.applyOverrides(HazelcastConfigs.bundled(), o -> null);
        assertEquals("tandem", untouched.getClusterName());
        assertEquals(List.of("127.0.0.1"), untouched.getNetworkConfig().getJoin().getTcpIpConfig().getMembers());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HazelcastConfigs.applyOverrides(
                HazelcastConfigs.bundled(), Map.of(HazelcastConfigs.Override.PORT, "57o1")::get));
        assertTrue(e.getMessage().contains("TANDEM_CLUSTER_PORT"), e.getMessage());
    }

    @Test
    void lookupOrderIsCodeThenLocationThenWorkingDirThenBundled(@TempDir Path dir) throws Exception {
        Config inCode = new Config().setClusterName("in-code");
        assertSame(inCode, HazelcastConfigs.resolve(ClusterOptions.defaults().withHazelcastConfig(inCode), dir));

        assertEquals("tandem", HazelcastConfigs.resolve(ClusterOptions.defaults(), dir).getClusterName(), "bundled");

        String xml = Files.readString(repoRoot().resolve("conf/cluster.xml"));
        Files.createDirectories(dir.resolve("conf"));
        Files.writeString(dir.resolve("conf/cluster.xml"), xml.replace("<cluster-name>tandem<", "<cluster-name>from-working-dir<"));
        assertEquals("from-working-dir", HazelcastConfigs.resolve(ClusterOptions.defaults(), dir).getClusterName());

        Files.writeString(dir.resolve("other.xml"), xml.replace("<cluster-name>tandem<", "<cluster-name>from-location<"));
        assertEquals("from-location", HazelcastConfigs.resolve(ClusterOptions.defaults().withConfigLocation("other.xml"), dir).getClusterName());
        assertEquals("tandem", HazelcastConfigs.resolve(
                ClusterOptions.defaults().withConfigLocation("classpath:" + HazelcastConfigs.BUNDLED_RESOURCE), dir).getClusterName());
    }

    @Test
    void missingOrBrokenFilesGetAClearError(@TempDir Path dir) throws Exception {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> HazelcastConfigs.resolve(ClusterOptions.defaults().withConfigLocation("nope.xml"), dir));
        assertTrue(missing.getMessage().contains("not found") && missing.getMessage().contains("nope.xml"), missing.getMessage());
        Files.writeString(dir.resolve("broken.xml"), "<hazelcast><network><port>oops</port></network></hazelcast>");
        IllegalArgumentException broken = assertThrows(IllegalArgumentException.class,
                () -> HazelcastConfigs.resolve(ClusterOptions.defaults().withConfigLocation("broken.xml"), dir));
        assertTrue(broken.getMessage().contains("broken.xml"), broken.getMessage());
    }

    @Test
    void loopbackTestConfigIsIsolatedAndFast() {
        HazelcastConfigs.LoopbackCluster cluster = HazelcastConfigs.newLoopbackCluster();
        Config c = cluster.memberConfig();
        assertTrue(c.getClusterName().startsWith("tandem-test-"));
        assertFalse(c.getNetworkConfig().getJoin().getMulticastConfig().isEnabled());
        assertFalse(c.getNetworkConfig().getJoin().getAutoDetectionConfig().isEnabled());
        List<String> members = c.getNetworkConfig().getJoin().getTcpIpConfig().getMembers();
        assertEquals(10, members.size());
        assertEquals("127.0.0.1:" + cluster.basePort(), members.getFirst());
        assertEquals("127.0.0.1:" + (cluster.basePort() + 9), members.getLast());
        assertEquals("false", c.getProperty("hazelcast.phone.home.enabled"));
        assertEquals("0", c.getProperty("hazelcast.wait.seconds.before.join"));
        assertNotNull(c.getMultiMapConfigs().get(HazelcastConfigs.VERTX_SUBS));
        assertTrue(HazelcastConfigs.newLoopbackCluster().name().compareTo(cluster.name()) != 0, "names are unique");
    }
}
