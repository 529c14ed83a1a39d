package io.tandem.transfer;

import io.tandem.protocol.auth.ClusterSecret;
import io.tandem.protocol.auth.TlsFiles;

import java.time.Duration;
import java.util.Set;

/**
 * How an agent is set up.
 *
 * @param backend        tcp, shm, ucx, nixl or auto (auto: per peer shm when proven to work, else ucx, else tcp)
 * @param agentName      the agent's unique name
 * @param host           the address its control channel binds to (may be a wildcard)
 * @param port           the control channel's port (0 = any free port)
 * @param shmDirectory   where shm region files live (usually {@code /dev/shm})
 * @param nativePoolSize threads of the named Vert.x worker pool that runs blocking and native calls
 * @param timeout        a transfer not done after this long fails (a dead peer is an error, not a hang); it also bounds
 *                       a control connection's handshake (at most {@link #MAX_HANDSHAKE})
 * @param advertiseHost  the host published in the metadata, which peers connect to; {@code null} = {@code host}.
 *                       Never a wildcard: a wildcard {@code host} without it is refused
 * @param identity       worker id, member UUID and epoch presented in handshakes; {@code null} = worker id
 *                       {@code agentName}, no member, a random epoch (the record then holds that identity)
 * @param secret         the cluster secret every control connection must prove (HMAC challenge-response, both ways);
 *                       {@code null} = no authentication (peers are only identified), and peers with a secret refuse it
 * @param tls            mutual TLS for the control channel, or {@code null} for plaintext
 * @param requireFences  incoming WRITEs without a granted fence token are refused (see {@link WriteFences})
 */
public record TransferConfig(String backend, String agentName, String host, int port, String shmDirectory,
                             int nativePoolSize, Duration timeout, String advertiseHost, AgentIdentity identity,
                             ClusterSecret secret, TlsFiles tls, boolean requireFences) {

    public static final String NATIVE_POOL_NAME = "tandem-transfer";
    /** Handshakes are bounded by the transfer timeout, and by this. */
    public static final Duration MAX_HANDSHAKE = Duration.ofSeconds(10);

    public TransferConfig {
        if (!Set.of("tcp", "shm", "ucx", "nixl", "auto").contains(backend)) {
            throw new IllegalArgumentException("unknown transfer backend '" + backend + "' (tcp, shm, ucx, nixl, auto)");
        }
        if (nativePoolSize < 1) throw new IllegalArgumentException("transfer native pool size must be >= 1");
        if (advertiseHost == null && isWildcard(host)) {
            throw new IllegalArgumentException("the transfer agent binds the wildcard address " + host
                    + ", which peers cannot connect to: set --advertise-host to an address they can reach");
        }
        if (advertiseHost != null && isWildcard(advertiseHost)) {
            throw new IllegalArgumentException("--advertise-host must be an address peers can reach, not the wildcard " + advertiseHost);
        }
        if (identity == null) identity = AgentIdentity.of(agentName, null);
    }

    /** The former shape: no advertised host of its own, no identity, secret, TLS or fence requirement. */
    public TransferConfig(String backend, String agentName, String host, int port, String shmDirectory, int nativePoolSize,
                          Duration timeout) {
        this(backend, agentName, host, port, shmDirectory, nativePoolSize, timeout, null, null, null, null, false);
    }

    public static TransferConfig of(String backend, String agentName) {
        return new TransferConfig(backend, agentName, "127.0.0.1", 0, "/dev/shm", 2, Duration.ofSeconds(30));
    }

    /** The host peers connect to: {@code advertiseHost}, else {@code host}. */
    public String advertisedHost() {
        return advertiseHost != null ? advertiseHost : host;
    }

    /** How long a control connection may take to authenticate. */
    public Duration handshakeTimeout() {
        return timeout.compareTo(MAX_HANDSHAKE) < 0 ? timeout : MAX_HANDSHAKE;
    }

    static boolean isWildcard(String host) {
        if (host == null || host.isBlank()) return true;
        String h = host.strip();
        if (h.startsWith("[") && h.endsWith("]")) h = h.substring(1, h.length() - 1);
        return h.equals("0.0.0.0") || h.equals("::") || h.equals("0:0:0:0:0:0:0:0") || h.equals("*");
    }

    /** The bind address; to bind a wildcard, set the advertised host first or use {@link #withAddresses}. */
    public TransferConfig withHost(String host) {
        return new TransferConfig(backend, agentName, host, port, shmDirectory, nativePoolSize, timeout, advertiseHost, identity,
                secret, tls, requireFences);
    }

    /** Bind {@code bindHost}, publish {@code advertiseHost} (null = the bind host). */
    public TransferConfig withAddresses(String bindHost, String advertiseHost) {
        return new TransferConfig(backend, agentName, bindHost, port, shmDirectory, nativePoolSize, timeout, advertiseHost, identity,
                secret, tls, requireFences);
    }

    public TransferConfig withAdvertiseHost(String advertiseHost) {
        return new TransferConfig(backend, agentName, host, port, shmDirectory, nativePoolSize, timeout, advertiseHost, identity,
                secret, tls, requireFences);
    }

    public TransferConfig withPort(int port) {
        return new TransferConfig(backend, agentName, host, port, shmDirectory, nativePoolSize, timeout, advertiseHost, identity,
                secret, tls, requireFences);
    }

    public TransferConfig withShmDirectory(String shmDirectory) {
        return new TransferConfig(backend, agentName, host, port, shmDirectory, nativePoolSize, timeout, advertiseHost, identity,
                secret, tls, requireFences);
    }

    public TransferConfig withNativePoolSize(int nativePoolSize) {
        return new TransferConfig(backend, agentName, host, port, shmDirectory, nativePoolSize, timeout, advertiseHost, identity,
                secret, tls, requireFences);
    }

    public TransferConfig withTimeout(Duration timeout) {
        return new TransferConfig(backend, agentName, host, port, shmDirectory, nativePoolSize, timeout, advertiseHost, identity,
                secret, tls, requireFences);
    }

    public TransferConfig withIdentity(AgentIdentity identity) {
        return new TransferConfig(backend, agentName, host, port, shmDirectory, nativePoolSize, timeout, advertiseHost, identity,
                secret, tls, requireFences);
    }

    public TransferConfig withSecret(ClusterSecret secret) {
        return new TransferConfig(backend, agentName, host, port, shmDirectory, nativePoolSize, timeout, advertiseHost, identity,
                secret, tls, requireFences);
    }

    public TransferConfig withTls(TlsFiles tls) {
        return new TransferConfig(backend, agentName, host, port, shmDirectory, nativePoolSize, timeout, advertiseHost, identity,
                secret, tls, requireFences);
    }

    public TransferConfig withRequireFences(boolean requireFences) {
        return new TransferConfig(backend, agentName, host, port, shmDirectory, nativePoolSize, timeout, advertiseHost, identity,
                secret, tls, requireFences);
    }

    /** Never shows the secret. */
    @Override
    public String toString() {
        return "TransferConfig[backend=" + backend + ", agent=" + agentName + ", bind=" + host + ":" + port + ", advertise="
                + advertisedHost() + ", shm=" + shmDirectory + ", identity=" + identity + ", secret=" + (secret != null)
                + ", tls=" + (tls != null) + ", requireFences=" + requireFences + "]";
    }
}
