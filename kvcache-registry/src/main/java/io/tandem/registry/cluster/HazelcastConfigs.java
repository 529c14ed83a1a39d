package io.tandem.registry.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.InvalidConfigurationException;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.XmlConfigBuilder;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Where a node's Hazelcast configuration comes from, and the loopback configuration tests use.
 * The lookup order and the overrides are documented in {@code tandem-cluster.xml}.
 */
public final class HazelcastConfigs {

    /** The bundled configuration, a classpath resource of this module (conf/cluster.xml is its copy). */
    public static final String BUNDLED_RESOURCE = "tandem-cluster.xml";
    /** Vert.x's own property naming a config file or {@code classpath:name}. */
    public static final String CONFIG_PROPERTY = "vertx.hazelcast.config";
    /** Looked up relative to the working directory. */
    public static final Path WORKING_DIR_CONFIG = Path.of("conf", "cluster.xml");

    /** Override names: a system property, else the environment variable. */
    public enum Override {
        MEMBERS("tandem.cluster.members", "TANDEM_CLUSTER_MEMBERS"),
        INTERFACE("tandem.cluster.interface", "TANDEM_CLUSTER_INTERFACE"),
        NAME("tandem.cluster.name", "TANDEM_CLUSTER_NAME"),
        PORT("tandem.cluster.port", "TANDEM_CLUSTER_PORT");

        public final String property;
        public final String env;

        Override(String property, String env) {
            this.property = property;
            this.env = env;
        }

        /** The value set for this override in the JVM (property first, then environment), or null. */
        public String fromSystem() {
            String v = System.getProperty(property);
            if (v == null || v.isBlank()) {
                v = System.getenv(env);
            }
            return v == null || v.isBlank() ? null : v.trim();
        }
    }

    /** The structures Vert.x's cluster manager expects to find configured. */
    public static final String VERTX_SUBS = "__vertx.subs";
    public static final List<String> VERTX_MAPS = List.of("__vertx.haInfo", "__vertx.nodeInfo");

    private HazelcastConfigs() {}

    /**
     * The configuration a node runs with: {@code options.hazelcastConfig()} as is, else a file
     * ({@code options.configLocation()}, else {@code -Dvertx.hazelcast.config}, else
     * {@code conf/cluster.xml} in {@code workingDir}, else the bundled resource) with the
     * overrides of {@link Override} applied.
     *
     * @throws IllegalArgumentException when a named file is missing or not a valid Hazelcast config
     */
    public static Config resolve(ClusterOptions options, Path workingDir) {
        if (options.hazelcastConfig() != null) {
            return options.hazelcastConfig();
        }
        String location = options.configLocation() != null ? options.configLocation() : System.getProperty(CONFIG_PROPERTY);
        Config config;
        if (location != null && !location.isBlank()) {
            config = load(location, workingDir);
        } else if (Files.isRegularFile(workingDir.resolve(WORKING_DIR_CONFIG))) {
            config = fromFile(workingDir.resolve(WORKING_DIR_CONFIG));
        } else {
            config = bundled();
        }
        return applyOverrides(config, o -> o.fromSystem());
    }

    /** {@code classpath:name} or a file path (relative to {@code workingDir}). */
    public static Config load(String location, Path workingDir) {
        if (location.startsWith("classpath:")) {
            return fromClasspath(location.substring("classpath:".length()));
        }
        return fromFile(workingDir.resolve(location));
    }

    public static Config bundled() {
        return fromClasspath(BUNDLED_RESOURCE);
    }

    public static Config fromClasspath(String resource) {
        ClassLoader loader = HazelcastConfigs.class.getClassLoader();
        InputStream in = loader.getResourceAsStream(resource);
        if (in == null) {
            throw new IllegalArgumentException("Hazelcast config not found on the classpath: " + resource);
        }
        return parse(in, "classpath:" + resource);
    }

    public static Config fromFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("Hazelcast config file not found: " + file.toAbsolutePath());
        }
        try {
            return parse(Files.newInputStream(file), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read Hazelcast config " + file, e);
        }
    }

    private static Config parse(InputStream in, String origin) {
        try (in) {
            return new XmlConfigBuilder(in).build();
        } catch (InvalidConfigurationException | IllegalArgumentException e) {
            // NumberFormatException and friends included: the builder reports bad values that way too
            throw new IllegalArgumentException("invalid Hazelcast config " + origin + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read Hazelcast config " + origin, e);
        }
    }

    /**
     * Applies the {@link Override}s that {@code lookup} returns a value for (members, interface,
     * cluster name, port). Members without an interface lift the interface restriction, since
     * the default one is loopback-only.
     *
     * @throws IllegalArgumentException for a port that is not a number in 1..65535
     */
    public static Config applyOverrides(Config config, java.util.function.Function<Override, String> lookup) {
        NetworkConfig network = config.getNetworkConfig();
        String members = lookup.apply(Override.MEMBERS);
        String iface = lookup.apply(Override.INTERFACE);
        String name = lookup.apply(Override.NAME);
        String port = lookup.apply(Override.PORT);
        if (members != null) {
            JoinConfig join = network.getJoin();
            join.getMulticastConfig().setEnabled(false);
            join.getAutoDetectionConfig().setEnabled(false);
            join.getTcpIpConfig().setEnabled(true).setMembers(Arrays.stream(members.split(","))
                    .map(String::trim).filter(s -> !s.isEmpty()).toList());
            if (iface == null) {
                network.getInterfaces().setEnabled(false).clear();
            }
        }
        if (iface != null) {
            network.getInterfaces().clear().setEnabled(true).addInterface(iface);
        }
        if (name != null) {
            config.setClusterName(name);
        }
        if (port != null) {
            int p;
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                p = -1;
            }
            if (p < 1 || p > 65535) {
                throw new IllegalArgumentException(Override.PORT.property + "/" + Override.PORT.env
                        + " must be a port number, got \"" + port + "\"");
            }
            network.setPort(p);
        }
        return config;
    }

    /** Adds the Vert.x structures to a config built in code (XML files declare them). */
    public static Config withVertxStructures(Config config) {
        config.addMultiMapConfig(new MultiMapConfig(VERTX_SUBS).setBackupCount(1)
                .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
        for (String map : VERTX_MAPS) {
            config.addMapConfig(new MapConfig(map).setBackupCount(1));
        }
        return config;
    }

    // ---- loopback clusters for tests -------------------------------------------------------

    /**
     * A cluster of one JVM or several processes on 127.0.0.1, isolated from every other test
     * cluster by its name and its port range.
     *
     * @param name     the cluster name
     * @param basePort first port of a range of {@link #PORTS} ports its members use
     */
    public record LoopbackCluster(String name, int basePort) {
        public static final int PORTS = 10;

        /** A fresh configuration for one more member (each member needs its own Config). */
        public Config memberConfig() {
            return loopbackTest(name, basePort);
        }

        /** The {@code tandem.cluster.*} system properties that make a child JVM join this cluster. */
        public List<String> jvmArgs() {
            return List.of("-D" + Override.NAME.property + "=" + name,
                    "-D" + Override.MEMBERS.property + "=" + String.join(",", loopbackMembers(basePort)),
                    "-D" + Override.INTERFACE.property + "=127.0.0.1",
                    "-D" + Override.PORT.property + "=" + basePort);
        }
    }

    /** A loopback cluster with a unique name and a port range that was free when chosen. */
    public static LoopbackCluster newLoopbackCluster() {
        return new LoopbackCluster("tandem-test-" + UUID.randomUUID(), freePortRange(LoopbackCluster.PORTS));
    }

    /**
     * One member of a test cluster on loopback: TCP/IP members 127.0.0.1 on {@code basePort..+9},
     * interface 127.0.0.1, no multicast or auto-detection, no phone-home, no join delay, and
     * fast failure detection (a silent member is dropped after 5 s).
     */
    public static Config loopbackTest(String clusterName, int basePort) {
        Config config = new Config().setClusterName(clusterName);
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.wait.seconds.before.join", "0");
        config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        config.setProperty("hazelcast.max.no.heartbeat.seconds", "5");
        config.setProperty("hazelcast.partition.count", "23");
        config.setProperty("hazelcast.logging.type", "jdk");
        config.setProperty("hazelcast.socket.bind.any", "false"); // listen on 127.0.0.1 only
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(basePort).setPortAutoIncrement(true).setPortCount(LoopbackCluster.PORTS);
        network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setMembers(loopbackMembers(basePort));
        return withVertxStructures(config);
    }

    /** 127.0.0.1 on each port of a test cluster's range (Hazelcast has no port-range syntax). */
    static List<String> loopbackMembers(int basePort) {
        return java.util.stream.IntStream.range(basePort, basePort + LoopbackCluster.PORTS)
                .mapToObj(p -> "127.0.0.1:" + p).toList();
    }

    /** The first port of {@code count} consecutive ports that are free now, in 20000..59999. */
    static int freePortRange(int count) {
        for (int attempt = 0; attempt < 200; attempt++) {
            int base = 20_000 + ThreadLocalRandom.current().nextInt(40_000 - count);
            boolean free = true;
            for (int p = base; p < base + count && free; p++) {
                free = isFree(p);
            }
            if (free) {
                return base;
            }
        }
        throw new IllegalStateException("no " + count + " consecutive free ports found on 127.0.0.1");
    }

    private static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

}
