package io.tandem.registry;

/**
 * Lease timing of a registry.
 *
 * @param leaseMillis         a worker without a heartbeat for this long is dropped everywhere
 * @param heartbeatMillis     how often a registered worker refreshes its lease (and publishes load)
 * @param loadPublishMinMillis a load change that is large is published at once, but not more
 *                            often than this per worker
 * @param mapName             the Hazelcast map holding the records (ignored by the local registry)
 */
public record RegistryOptions(long leaseMillis, long heartbeatMillis, long loadPublishMinMillis, String mapName) {

    public static final long DEFAULT_LEASE_MILLIS = 6_000;
    public static final long DEFAULT_HEARTBEAT_MILLIS = 2_000;
    public static final long DEFAULT_LOAD_PUBLISH_MIN_MILLIS = 250;
    public static final String DEFAULT_MAP_NAME = "tandem.workers";

    public RegistryOptions {
        if (heartbeatMillis < 10) {
            throw new IllegalArgumentException("heartbeatMillis must be >= 10, got " + heartbeatMillis);
        }
        if (leaseMillis < 2 * heartbeatMillis) {
            throw new IllegalArgumentException("leaseMillis (" + leaseMillis
                    + ") must be at least twice heartbeatMillis (" + heartbeatMillis + ") so one lost heartbeat is tolerated");
        }
        if (loadPublishMinMillis < 0) {
            throw new IllegalArgumentException("loadPublishMinMillis must be >= 0, got " + loadPublishMinMillis);
        }
        if (mapName == null || mapName.isBlank()) {
            throw new IllegalArgumentException("mapName must not be blank");
        }
    }

    /** Lease 6 s, heartbeat 2 s, immediate load publishing at most every 250 ms, map "tandem.workers". */
    public static RegistryOptions defaults() {
        return new RegistryOptions(DEFAULT_LEASE_MILLIS, DEFAULT_HEARTBEAT_MILLIS, DEFAULT_LOAD_PUBLISH_MIN_MILLIS, DEFAULT_MAP_NAME);
    }

    /** The given lease with a heartbeat of a third of it. */
    public static RegistryOptions withLease(long leaseMillis) {
        return new RegistryOptions(leaseMillis, Math.max(10, leaseMillis / 3), Math.min(DEFAULT_LOAD_PUBLISH_MIN_MILLIS, leaseMillis / 12), DEFAULT_MAP_NAME);
    }

    public RegistryOptions withMapName(String name) {
        return new RegistryOptions(leaseMillis, heartbeatMillis, loadPublishMinMillis, name);
    }
}
