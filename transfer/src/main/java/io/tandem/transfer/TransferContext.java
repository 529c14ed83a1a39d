package io.tandem.transfer;

import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;

/**
 * What a backend gets from its agent: the configuration, the Vert.x instance (for sockets and timers) and the named
 * worker pool ({@link TransferConfig#NATIVE_POOL_NAME}) where blocking and native calls run.
 */
public record TransferContext(TransferConfig config, Vertx vertx, WorkerExecutor nativePool) {
}
