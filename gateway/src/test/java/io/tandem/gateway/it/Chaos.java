package io.tandem.gateway.it;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** What the chaos ITs share: the metrics they read, and the checks of what clients saw. */
final class Chaos {
    /** Tiny and fast on the CPU engine, which continues a migrated request exactly. */
    static final java.nio.file.Path TINY_LLAMA = ProcessCluster.ROOT.resolve("testdata/models/tiny-llama-spm-f32.gguf");
    /** A worker's streams (requests it holds a stream for). */
    static final ProcessCluster.Sample WORKER_STREAMS = ProcessCluster.Sample.of("tandem_worker_streams");
    /** A worker's KV blocks held by requests. */
    static final ProcessCluster.Sample ACTIVE_BLOCKS = ProcessCluster.Sample.of("tandem_worker_active_blocks");

    private Chaos() {}

    /** The gateway's {@code tandem_migrations_total} for one reason ({@code worker_left}, {@code stalled}, ...). */
    static ProcessCluster.Sample migrations(String reason) {
        return ProcessCluster.Sample.of("tandem_migrations_total", "reason", reason);
    }

    /** Engine flags of the test workers: one thread each, a small KV cache. */
    static String[] cpuEngine(java.nio.file.Path model, String... more) {
        String[] base = {"--model", model.toString(), "--engine", "cpu", "--threads", "1",
                "--engine-option", "kv-cache-memory=32MiB"};
        String[] out = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, out, base.length, more.length);
        return out;
    }

    /** The model the gateway lists first. */
    static String model(ProcessCluster cluster, String base) throws Exception {
        return new io.vertx.core.json.JsonObject(cluster.get(base + "/v1/models").body())
                .getJsonArray("data").getJsonObject(0).getString("id");
    }

    /**
     * Sends short requests until each worker (by its HTTP port) has served one: every worker is then in the gateway's
     * routing. Round-robin routing spreads them.
     */
    static void awaitEveryWorkerServes(ProcessCluster cluster, StreamLoad load, String base, String model,
                                       int... workerPorts) throws InterruptedException {
        StreamLoad.Spec probe = new StreamLoad.Spec("probe", StreamLoad.body(model, "Hello", 2, null));
        cluster.awaitTrue("every worker serves requests", Duration.ofSeconds(90), () -> {
            try {
                load.start(base, probe).await(Duration.ofSeconds(30));
            } catch (Exception e) {
                return false;
            }
            for (int port : workerPorts) if (cluster.served(port) <= 0) return false;
            return true;
        });
    }

    /** Every request succeeded. */
    static void assertNoneFailed(java.util.Collection<StreamLoad.Outcome> outcomes, ProcessCluster cluster) {
        List<StreamLoad.Outcome> failed = outcomes.stream().filter(o -> !o.ok()).toList();
        if (!failed.isEmpty()) {
            fail(failed.size() + " of " + outcomes.size() + " requests failed:\n"
                    + failed.stream().map(Object::toString).collect(Collectors.joining("\n")) + "\n" + cluster.logs());
        }
    }

    /** Every outcome's tokens equal those of the no-fault run's request of the same name. */
    static void assertSameTokens(Map<String, StreamLoad.Outcome> expected, java.util.Collection<StreamLoad.Outcome> actual) {
        for (StreamLoad.Outcome o : actual) {
            StreamLoad.Outcome ref = expected.get(o.name());
            if (ref == null) fail("no reference for " + o.name());
            assertEquals(ref.tokens(), o.tokens(), o.name() + ": the same token ids as without the fault");
        }
    }
}
