package io.tandem.registry.cluster;

import com.hazelcast.config.Config;
import io.tandem.registry.RegistryOptions;
import io.vertx.core.VertxOptions;

import java.util.Objects;

/**
 * How a node joins the cluster.
 *
 * @param hazelcastConfig a Hazelcast config given in code (used as is), or null to look one up
 * @param configLocation  a config file or {@code classpath:name}, or null (then
 *                        {@code -Dvertx.hazelcast.config}, {@code conf/cluster.xml}, the bundled file)
 * @param clusterHost     the event-bus host, or null for the address Hazelcast binds
 * @param clusterPort     the event-bus port, 0 for a free one
 * @param publicHost      the event-bus host other members connect to, when it differs from what the bus binds (see
 *                        {@link AdvertisedHost}), or null
 * @param tls             mutual TLS for event-bus links, or null for plaintext
 * @param registry        lease and heartbeat of the worker registry
 * @param vertxOptions    everything else of Vert.x (metrics, pools); its event-bus host/port are
 *                        replaced by the two above
 * @param eventLoops      how the node's event loops are scheduled
 */
public record ClusterOptions(Config hazelcastConfig, String configLocation, String clusterHost, int clusterPort,
                             String publicHost, io.tandem.protocol.auth.TlsFiles tls, RegistryOptions registry,
                             VertxOptions vertxOptions, EventLoopPriority eventLoops) {

    public ClusterOptions {
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(vertxOptions, "vertxOptions");
        Objects.requireNonNull(eventLoops, "eventLoops");
        if (clusterPort < 0 || clusterPort > 65535) {
            throw new IllegalArgumentException("clusterPort must be 0..65535, got " + clusterPort);
        }
    }

    /** Config looked up as documented, event bus on a free port, default lease. */
    public static ClusterOptions defaults() {
        return new ClusterOptions(null, null, null, 0, null, null, RegistryOptions.defaults(), new VertxOptions(),
                EventLoopPriority.REALTIME);
    }

    /** A member of a loopback test cluster: its own config, event bus on 127.0.0.1. */
    public static ClusterOptions loopbackTest(HazelcastConfigs.LoopbackCluster cluster, RegistryOptions registry) {
        return defaults().withHazelcastConfig(cluster.memberConfig()).withClusterHost("127.0.0.1").withRegistry(registry);
    }

    public ClusterOptions withHazelcastConfig(Config config) {
        return new ClusterOptions(config, configLocation, clusterHost, clusterPort, publicHost, tls, registry,
                vertxOptions, eventLoops);
    }

    public ClusterOptions withConfigLocation(String location) {
        return new ClusterOptions(hazelcastConfig, location, clusterHost, clusterPort, publicHost, tls, registry,
                vertxOptions, eventLoops);
    }

    public ClusterOptions withClusterHost(String host) {
        return new ClusterOptions(hazelcastConfig, configLocation, host, clusterPort, publicHost, tls, registry,
                vertxOptions, eventLoops);
    }

    public ClusterOptions withClusterPort(int port) {
        return new ClusterOptions(hazelcastConfig, configLocation, clusterHost, port, publicHost, tls, registry,
                vertxOptions, eventLoops);
    }

    public ClusterOptions withRegistry(RegistryOptions options) {
        return new ClusterOptions(hazelcastConfig, configLocation, clusterHost, clusterPort, publicHost, tls,
                options, vertxOptions, eventLoops);
    }

    public ClusterOptions withVertxOptions(VertxOptions options) {
        return new ClusterOptions(hazelcastConfig, configLocation, clusterHost, clusterPort, publicHost, tls,
                registry, options, eventLoops);
    }

    public ClusterOptions withPublicHost(String host) {
        return new ClusterOptions(hazelcastConfig, configLocation, clusterHost, clusterPort, host, tls, registry,
                vertxOptions, eventLoops);
    }

    public ClusterOptions withTls(io.tandem.protocol.auth.TlsFiles files) {
        return new ClusterOptions(hazelcastConfig, configLocation, clusterHost, clusterPort, publicHost, files,
                registry, vertxOptions, eventLoops);
    }

    public ClusterOptions withEventLoops(EventLoopPriority priority) {
        return new ClusterOptions(hazelcastConfig, configLocation, clusterHost, clusterPort, publicHost, tls, registry,
                vertxOptions, priority);
    }
}
