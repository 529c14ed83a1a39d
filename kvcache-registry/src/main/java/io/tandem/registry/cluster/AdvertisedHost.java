package io.tandem.registry.cluster;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * The address a member publishes for others to reach it (event bus, a worker's {@code /route}, its transfer agent):
 * {@code --advertise-host} when given, else {@code -cluster-host}, else the address Hazelcast bound. A wildcard is
 * never published (from another host, {@code 0.0.0.0} is that host itself), and loopback only when the cluster itself
 * lives on loopback. Pure logic: the caller passes what name resolution and Hazelcast say.
 */
public final class AdvertisedHost {
    private AdvertisedHost() {
    }

    /** Where the advertised host came from: the flag to name when it is wrong. */
    public enum Source {
        ADVERTISE_HOST("--advertise-host"), CLUSTER_HOST("-cluster-host"), HAZELCAST("the interface Hazelcast binds");

        public final String flag;

        Source(String flag) {
            this.flag = flag;
        }
    }

    /** The chosen host and where it came from. */
    public record Choice(String host, Source source) {
    }

    /**
     * @param advertiseHost    the {@code --advertise-host} flag, or null
     * @param clusterHost      the {@code -cluster-host} flag, or null
     * @param hazelcastAddress the address Hazelcast bound (null when not clustered: then loopback is fine)
     * @throws IllegalArgumentException naming the flag, for a wildcard, or for loopback in a cluster that is not
     */
    public static Choice resolve(String advertiseHost, String clusterHost, InetAddress hazelcastAddress) {
        Choice c = blank(advertiseHost) ? blank(clusterHost)
                ? new Choice(hazelcastAddress == null ? "127.0.0.1" : hazelcastAddress.getHostAddress(), Source.HAZELCAST)
                : new Choice(clusterHost.strip(), Source.CLUSTER_HOST)
                : new Choice(advertiseHost.strip(), Source.ADVERTISE_HOST);
        Optional<InetAddress> address = resolveName(c.host());
        if (address.isPresent() && address.get().isAnyLocalAddress()) {
            throw new IllegalArgumentException(c.source().flag + " is " + c.host() + ", a wildcard: other members would "
                    + "reach themselves at it. Set --advertise-host to the name or IP other hosts reach this one at "
                    + "(--host stays the bind address).");
        }
        boolean clusterOnLoopback = hazelcastAddress == null || hazelcastAddress.isLoopbackAddress();
        if (address.isPresent() && address.get().isLoopbackAddress() && !clusterOnLoopback) {
            throw new IllegalArgumentException(c.source().flag + " is " + c.host() + ", a loopback address, but the cluster "
                    + "spans hosts (Hazelcast bound " + hazelcastAddress.getHostAddress() + "): set --advertise-host to the name "
                    + "or IP other hosts reach this one at.");
        }
        return c;
    }

    /** Whether {@code host} is a wildcard address literal (0.0.0.0, ::); no name lookup, so safe on an event loop. */
    public static boolean isWildcard(String host) {
        try {
            return InetAddress.ofLiteral(host).isAnyLocalAddress();
        } catch (IllegalArgumentException notALiteral) {
            return false;
        }
    }

    /** The address a host name or literal stands for here; empty when it does not resolve (others may still reach it). */
    static Optional<InetAddress> resolveName(String host) {
        try {
            return Optional.of(InetAddress.getByName(host));
        } catch (UnknownHostException | SecurityException e) {
            return Optional.empty();
        }
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
