package io.tandem.transfer.bench;

import io.tandem.protocol.auth.ClusterSecret;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.TransferAgent;
import io.tandem.transfer.TransferAgents;
import io.tandem.transfer.TransferConfig;
import io.vertx.core.Vertx;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The far side of {@link TransferBench}: args backend, agent name, region bytes; the cluster secret from
 * {@code TANDEM_CLUSTER_SECRET}. Registers one region with its pages touched, grants fence token {@link #FENCE} over
 * all of it, prints {@code META <json>} and serves until stdin closes. Transfers are one-sided: it needs no commands.
 */
public final class BenchPeer {
    static final long FENCE = 1;

    public static void main(String[] args) throws Exception {
        Vertx vertx = Vertx.vertx();
        ClusterSecret secret = ClusterSecret.fromEnvironment()
                .orElseThrow(() -> new IllegalStateException(ClusterSecret.ENV + " is not set"));
        TransferAgent agent = TransferAgents.open(vertx, TransferConfig.of(args[0], args[1]).withSecret(secret))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        long bytes = Long.parseLong(args[2]);
        agent.register("bench", bytes).memory().fill((byte) 7);
        agent.fences().grant(FENCE, List.of(new MemoryDescriptor(0, 0, bytes)));
        System.out.println("META " + agent.metadata().toJson().encode());
        System.out.flush();
        while (System.in.read() >= 0) {
            // serve until the bench closes our stdin
        }
        agent.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        System.exit(0);
    }
}
