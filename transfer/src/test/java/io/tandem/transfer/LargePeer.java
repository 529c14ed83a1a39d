package io.tandem.transfer;

import io.vertx.core.Vertx;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The peer of {@link PeerDeathTest}, in its own JVM: an agent with one region of a given size. Args: backend, agent
 * name, region bytes. Prints {@code META <json>}, then answers {@code CRC offset length} until stdin closes. It is
 * meant to be frozen and killed; it does nothing else.
 */
public final class LargePeer {
    public static void main(String[] args) throws Exception {
        Vertx vertx = Vertx.vertx();
        TransferAgent agent = TransferAgents.open(vertx, TransferConfig.of(args[0], args[1]))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        RegisteredRegion region = agent.register("large", Long.parseLong(args[2]));
        System.out.println("META " + agent.metadata().toJson().encode());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            String[] w = line.split(" ");
            if (w[0].equals("CRC")) {
                System.out.println("CRC " + Patterns.crc(region.memory().asSlice(Long.parseLong(w[1]), Long.parseLong(w[2]))));
            } else {
                System.out.println("ERR unknown command " + w[0]);
            }
        }
        agent.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        System.exit(0);
    }
}
