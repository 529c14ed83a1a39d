package io.tandem.transfer.bench;

import io.tandem.transfer.TransferAgent;
import io.tandem.transfer.TransferAgents;
import io.tandem.transfer.TransferConfig;
import io.vertx.core.Vertx;

import java.util.concurrent.TimeUnit;

/**
 * The far side of {@link TransferBench}: args backend, agent name, region bytes. Registers one region with its pages
 * touched, prints {@code META <json>} and serves until stdin closes. Transfers are one-sided, so it needs no commands.
 */
public final class BenchPeer {
    public static void main(String[] args) throws Exception {
        Vertx vertx = Vertx.vertx();
        TransferAgent agent = TransferAgents.open(vertx, TransferConfig.of(args[0], args[1]))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        agent.register("bench", Long.parseLong(args[2])).memory().fill((byte) 7);
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
