package io.tandem.transfer;

import io.tandem.transfer.agent.DefaultTransferAgent;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/** Opens transfer agents. */
public final class TransferAgents {
    private TransferAgents() {
    }

    /**
     * Creates an agent with its backends (on the native pool: ucx/nixl initialisation is native and may block) and
     * starts its control channel. Fails with a {@link TransferException} when a configured backend is unavailable.
     */
    public static Future<TransferAgent> open(Vertx vertx, TransferConfig config) {
        return DefaultTransferAgent.open(vertx, config);
    }
}
