package io.tandem.transfer;

import io.tandem.protocol.auth.ClusterSecret;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A transfer agent in its own JVM, driven by a line protocol on stdin/stdout (see {@link PeerProcess}). Args: backend,
 * agent name; the cluster secret comes from {@code TANDEM_CLUSTER_SECRET} (none when unset). Registers region 0 (6 MiB, pattern seed 1) and region 1 (1 MiB + 3, seed 2), prints
 * {@code META <json>}, then answers commands until stdin closes:
 * {@code LOAD <json>}, {@code CRC region offset length}, {@code NOTIFS},
 * {@code WRITE localRegion localOffset remoteRegion remoteOffset length notificationBase64}.
 */
public final class TestPeer {
    static final long REGION0 = 6 << 20;
    static final long REGION1 = (1 << 20) + 3;

    public static void main(String[] args) throws Exception {
        Vertx vertx = Vertx.vertx();
        TransferAgent agent = TransferAgents.open(vertx, TransferConfig.of(args[0], args[1])
                        .withSecret(ClusterSecret.fromEnvironment().orElse(null)).withTimeout(Duration.ofSeconds(10)))
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        Patterns.fill(agent.register("zero", REGION0).memory(), 1);
        Patterns.fill(agent.register("one", REGION1).memory(), 2);
        System.out.println("META " + agent.metadata().toJson().encode());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String peer = null;
        for (String line; (line = in.readLine()) != null; ) {
            String[] w = line.split(" ", 2);
            String reply;
            try {
                switch (w[0]) {
                    case "LOAD" -> {
                        AgentMetadata m = AgentMetadata.fromJson(new JsonObject(w[1]));
                        peer = m.agent();
                        reply = "LOADED " + agent.loadPeer(m);
                    }
                    case "CRC" -> {
                        long[] a = longs(w[1]);
                        reply = "CRC " + Patterns.crc(agent.regions().get((int) a[0]).memory().asSlice(a[1], a[2]));
                    }
                    case "NOTIFS" -> {
                        List<String> ns = new ArrayList<>();
                        for (Notification n : agent.takeNotifications()) {
                            ns.add(n.fromAgent() + ":" + Base64.getEncoder().encodeToString(n.payload()));
                        }
                        reply = "NOTIFS " + String.join(",", ns);
                    }
                    case "WRITE" -> {
                        String[] p = w[1].split(" ");
                        long[] a = longs(String.join(" ", List.of(p).subList(0, 5)));
                        agent.post(TransferOp.WRITE, List.of(new MemoryDescriptor((int) a[0], a[1], a[4])), peer,
                                List.of(new MemoryDescriptor((int) a[2], a[3], a[4])), Base64.getDecoder().decode(p[5]))
                                .completion().get(20, TimeUnit.SECONDS);
                        reply = "OK";
                    }
                    default -> reply = "ERR unknown command " + w[0];
                }
            } catch (Exception e) {
                reply = "ERR " + e;
            }
            System.out.println(reply.replace('\n', ' '));
        }
        agent.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        System.exit(0);
    }

    private static long[] longs(String s) {
        String[] p = s.trim().split(" ");
        long[] out = new long[p.length];
        for (int i = 0; i < p.length; i++) out[i] = Long.parseLong(p[i]);
        return out;
    }
}
