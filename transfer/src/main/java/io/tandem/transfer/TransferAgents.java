package io.tandem.transfer;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;

/** Opens transfer agents. */
public final class TransferAgents {
    private TransferAgents() {
    }

    /**
     * Creates an agent with its backends (on the native pool: ucx/nixl initialisation is native and may block) and
     * starts its control channel. Fails with a {@link TransferException} when a configured backend is unavailable.
     */
    public static Future<TransferAgent> open(Vertx vertx, TransferConfig config) {
        WorkerExecutor pool = vertx.createSharedWorkerExecutor(TransferConfig.NATIVE_POOL_NAME, config.nativePoolSize());
        return pool.executeBlocking(() -> new DefaultTransferAgent(vertx, config, pool), false)
                .onFailure(e -> pool.close())
                .compose(DefaultTransferAgent::listen);
    }
}
