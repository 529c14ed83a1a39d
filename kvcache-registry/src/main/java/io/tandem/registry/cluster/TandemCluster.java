package io.tandem.registry.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import io.tandem.registry.HazelcastWorkerRegistry;
import io.tandem.registry.RegistryOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.nio.file.Path;

/**
 * Starts a clustered node: Vert.x over Hazelcast, plus the worker registry on top.
 *
 * <pre>{@code
 * ClusterNode node = TandemCluster.start(ClusterOptions.defaults()).await();
 * node.registry().register(record);         // record.nodeId() may be left empty
 * }</pre>
 *
 * Mains that start Vert.x themselves (e.g. through {@code VertxApplication} hooks) can plug in
 * {@link #clusterManager(ClusterOptions)} and afterwards call {@link #registry(Vertx, RegistryOptions)}.
 */
public final class TandemCluster {
    private TandemCluster() {}

    /** Joins the cluster described by {@code options} and starts the registry. */
    public static Future<ClusterNode> start(ClusterOptions options) {
        HazelcastClusterManager manager;
        try {
            manager = clusterManager(options);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
        return NetworkTransport.builder(vertxOptions(options), options.eventLoops())
                .withClusterManager(manager)
                .buildClustered()
                .compose(vertx -> HazelcastWorkerRegistry.create(vertx, manager.getHazelcastInstance(), options.registry())
                        .map(registry -> new ClusterNode(vertx, manager.getHazelcastInstance(), registry))
                        .recover(e -> vertx.close().transform(ignored -> Future.failedFuture(e))));
    }

    /** A cluster manager with the config {@link HazelcastConfigs#resolve resolved} from {@code options}. */
    public static HazelcastClusterManager clusterManager(ClusterOptions options) {
        Config config = HazelcastConfigs.resolve(options, Path.of("").toAbsolutePath());
        return new HazelcastClusterManager(config);
    }

    /** {@code options.vertxOptions()} with the event bus on the requested host and port, on the native transport. */
    public static VertxOptions vertxOptions(ClusterOptions options) {
        VertxOptions vertxOptions = NetworkTransport.preferNative(new VertxOptions(options.vertxOptions()));
        // the copy constructor turns MicrometerMetricsOptions into plain MetricsOptions: keep the original
        vertxOptions.setMetricsOptions(options.vertxOptions().getMetricsOptions());
        EventBusOptions bus = vertxOptions.getEventBusOptions();
        if (options.clusterHost() != null) {
            bus.setHost(options.clusterHost());
        }
        bus.setPort(options.clusterPort());
        if (options.publicHost() != null) bus.setClusterPublicHost(options.publicHost());
        if (options.tls() != null) options.tls().applyTo(bus);
        return vertxOptions;
    }

    /** The Hazelcast instance under a Vert.x that was clustered with a {@link HazelcastClusterManager}. */
    public static HazelcastInstance hazelcastOf(Vertx vertx) {
        ClusterManager manager = vertx instanceof VertxInternal internal ? internal.clusterManager() : null;
        if (manager instanceof HazelcastClusterManager hz) {
            return hz.getHazelcastInstance();
        }
        throw new IllegalArgumentException("this Vert.x is not clustered with Hazelcast (cluster manager: " + manager + ")");
    }

    /**
     * The address this clustered node publishes ({@link AdvertisedHost#resolve}): the flags when given, else the
     * address Hazelcast bound.
     *
     * @throws IllegalArgumentException naming the flag, when that address would not reach this node from another host
     */
    public static AdvertisedHost.Choice advertisedHost(Vertx clusteredVertx, String advertiseHost, String clusterHost) {
        java.net.InetAddress bound;
        try {
            bound = hazelcastOf(clusteredVertx).getCluster().getLocalMember().getAddress().getInetAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("Hazelcast's own member address does not resolve: " + e.getMessage(), e);
        }
        return AdvertisedHost.resolve(advertiseHost, clusterHost, bound);
    }

    /** A started registry for a Vert.x that is already clustered with Hazelcast. */
    public static Future<HazelcastWorkerRegistry> registry(Vertx clusteredVertx, RegistryOptions options) {
        try {
            return HazelcastWorkerRegistry.create(clusteredVertx, hazelcastOf(clusteredVertx), options);
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
    }
}
