package io.tandem.transfer;

import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** Opening test agents with unique names. */
final class Agents {
    private Agents() {
    }

    static TransferAgent open(Vertx vertx, String backend, String name, UnaryOperator<TransferConfig> tweak) throws Exception {
        TransferConfig c = TransferConfig.of(backend, name + "-" + ProcessHandle.current().pid()).withTimeout(Duration.ofSeconds(10));
        return TransferAgents.open(vertx, tweak.apply(c)).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    static MemoryDescriptor d(int region, long offset, long length) {
        return new MemoryDescriptor(region, offset, length);
    }
}
