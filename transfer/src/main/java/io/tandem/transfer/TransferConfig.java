package io.tandem.transfer;

import java.time.Duration;

/**
 * How an agent is set up.
 *
 * @param backend        tcp, shm, ucx, nixl or auto (auto: per peer shm on the same host, else ucx, else tcp)
 * @param agentName      the agent's unique name
 * @param host           the address its control channel binds to and advertises
 * @param port           the control channel's port (0 = any free port)
 * @param shmDirectory   where shm region files live (usually {@code /dev/shm})
 * @param nativePoolSize threads of the named Vert.x worker pool that runs blocking and native calls
 * @param timeout        a transfer not done after this long fails (a dead peer is an error, not a hang)
 */
public record TransferConfig(String backend, String agentName, String host, int port, String shmDirectory,
                             int nativePoolSize, Duration timeout) {

    public static final String NATIVE_POOL_NAME = "tandem-transfer";

    public TransferConfig {
        if (!java.util.Set.of("tcp", "shm", "ucx", "nixl", "auto").contains(backend)) {
            throw new IllegalArgumentException("unknown transfer backend '" + backend + "' (tcp, shm, ucx, nixl, auto)");
        }
        if (nativePoolSize < 1) throw new IllegalArgumentException("transfer native pool size must be >= 1");
    }

    public static TransferConfig of(String backend, String agentName) {
        return new TransferConfig(backend, agentName, "127.0.0.1", 0, "/dev/shm", 2, Duration.ofSeconds(30));
    }

    public TransferConfig withHost(String host) {
        return new TransferConfig(backend, agentName, host, port, shmDirectory, nativePoolSize, timeout);
    }

    public TransferConfig withTimeout(Duration timeout) {
        return new TransferConfig(backend, agentName, host, port, shmDirectory, nativePoolSize, timeout);
    }
}
