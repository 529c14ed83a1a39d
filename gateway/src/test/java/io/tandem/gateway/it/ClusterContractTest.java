package io.tandem.gateway.it;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tandem.engine.cpu.CpuEngine;
import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.tandem.gateway.it.TestSupport.Http;
import io.tandem.gateway.it.TestSupport.Reply;
import io.tandem.gateway.router.RouterMode;
import io.tandem.model.BundledModel;
import io.tandem.model.gguf.GgufFile;
import io.tandem.model.gguf.GgufWriter;
import io.tandem.model.gguf.TensorInfo;
import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;
import io.tandem.worker.DeployedWorker;
import io.tandem.worker.WorkerDeployment;
import io.tandem.worker.WorkerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static io.tandem.gateway.it.TestSupport.await;
import static io.tandem.gateway.it.TestSupport.chat;
import static io.tandem.gateway.it.TestSupport.sync;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cluster contract end to end: routing follows the workers' block size, and a worker of another model file is refused. */
class ClusterContractTest {
    static final String MODEL = "tandem-fortune-5m";
    static final int BLOCK = 32;

    /**
     * Two CPU workers with 32-token blocks. Each conversation's first turn goes through one gateway, its second turn
     * through another one (two replicas behind a load balancer): the second gateway knows where the prefix is only
     * from the workers' KV events, whose block hashes cover 32 tokens. It must hash the prompt the same way to find
     * them — with a fixed 16 it finds nothing and routes blind.
     */
    @Test
    void withBlockSize32TheNextTurnGoesToTheWorkerHoldingItsPrefix() throws Exception {
        Map<String, Object> engine = Map.of("threads", 1, "kv-cache-memory", "16MiB", "block-size", BLOCK);
        GatewayOptions options = new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0).setEngine("cpu")
                .setEngineOptions(engine).setPrefillWorkers(0).setRouter(RouterMode.KV);
        Gateway first = TestSupport.start(options);
        Gateway second = null;
        try {
            List<DeployedWorker> workers = new ArrayList<>(first.workers());
            workers.add(sync(WorkerDeployment.deploy(first.vertx(), first.registry(),
                    WorkerOptions.defaults(WorkerRole.BOTH).withEngine("cpu", engine).withoutHttp())));
            second = sync(Gateway.attach(first.vertx(), first.registry(), new GatewayOptions().setHost("127.0.0.1").setPort(0).setGrpcPort(0)
                    .setRouter(RouterMode.KV)));
            Gateway g2 = second;
            await("two workers accepted by the second gateway", Duration.ofSeconds(10),
                    () -> g2.dispatcher().contracts().accepted(MODEL).size() == 2);
            for (DeployedWorker w : workers) assertEquals(BLOCK, w.record().contract().blockSize(), "the worker states its block size");
            assertEquals(BLOCK, second.dispatcher().contracts().decide(MODEL).blockSize().orElseThrow());

            BlockHasher hasher = new BlockHasher(MODEL, BLOCK);
            double hitsBefore = prefixHitBlocks(second.meters());
            try (Http one = new Http(first.port()); Http two = new Http(second.port())) {
                Random rnd = new Random(7);
                for (int conversation = 0; conversation < 4; conversation++) {
                    List<Integer> prompt = new ArrayList<>();
                    for (int i = 0; i < 100; i++) prompt.add(3 + rnd.nextInt(400)); // 3 full blocks of 32
                    long[] before = lookups(workers);
                    Turn t1 = complete(one, prompt);
                    String holder = servedBy(workers, before);
                    // the second gateway learns of the cached prefix from the holder's KV events only
                    long[] prefix = hasher.hashBlocks(prompt.stream().mapToInt(Integer::intValue).toArray());
                    await("the holder's KV events at the second gateway", Duration.ofSeconds(10),
                            () -> g2.dispatcher().router().index().prefixBlocks(prefix).getOrDefault(holder, 0) == prefix.length);

                    prompt.addAll(t1.answer());
                    for (int i = 0; i < 20; i++) prompt.add(3 + rnd.nextInt(400));
                    before = lookups(workers);
                    Turn t2 = complete(two, prompt);
                    assertEquals(holder, servedBy(workers, before), "conversation " + conversation + ": the second turn follows its prefix");
                    assertTrue(t2.cachedTokens() >= 3 * BLOCK, "conversation " + conversation + ": cached_tokens " + t2.cachedTokens());
                }
            }
            assertTrue(prefixHitBlocks(second.meters()) - hitsBefore >= 4 * 3, "the router saw the hits it routed by");
        } finally {
            if (second != null) sync(second.stop());
            sync(first.stop());
        }
    }

    /**
     * A worker that serves another file under the same model name (here: the bundled model with one RoPE value
     * changed, so it would compute other tokens) is refused: no request reaches it, it does not make the model
     * ready, and the gateway says why, once, in its log and its metrics.
     */
    @Test
    void aWorkerServingAnotherFileUnderTheSameNameIsExcluded(@TempDir Path dir) throws Exception {
        Path variant = dir.resolve("fortune-variant.gguf");
        try (GgufFile f = GgufFile.open(BundledModel.path())) {
            GgufWriter w = new GgufWriter().version(f.version()).putAll(f.metadata());
            float freqBase = f.metadata().getFloat("llama.rope.freq_base", 10000f);
            w.putFloat32("llama.rope.freq_base", freqBase * 2);
            for (TensorInfo t : f.tensors()) w.addTensor(t.name(), t.type(), t.dims(), f.tensorData(t));
            w.write(variant);
        }
        List<LogRecord> warnings = new CopyOnWriteArrayList<>();
        Logger gateLog = Logger.getLogger("io.tandem.gateway.dispatch.ContractGate");
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) warnings.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        gateLog.addHandler(capture);
        GatewayOptions options = TestSupport.options(0.5).setPrefillWorkers(0);
        Gateway gateway = TestSupport.start(options);
        try (Http http = new Http(gateway.port())) {
            DeployedWorker good = gateway.workers().getFirst();
            SimpleMeterRegistry impostorMeters = new SimpleMeterRegistry();
            DeployedWorker impostor = sync(WorkerDeployment.deploy(gateway.vertx(), gateway.registry(), WorkerOptions.defaults(WorkerRole.BOTH)
                    .withModelPath(variant).withEngine("sim", options.engineOptions()).withoutHttp(), impostorMeters));
            WorkerRecord record = impostor.record();
            assertEquals(MODEL, record.model(), "the same model name");
            assertTrue(!record.contract().modelFingerprint().equals(good.record().contract().modelFingerprint()));

            MeterRegistry meters = gateway.meters();
            await("the refusal counted", Duration.ofSeconds(10), () -> refused(meters, "fingerprint") == 1);
            assertEquals(1, meters.get("tandem.gateway.refused.workers").tag("model", MODEL).gauge().value());
            assertEquals(1, warnings.size(), "one log line: " + warnings.stream().map(LogRecord::getMessage).toList());
            String line = warnings.getFirst().getMessage();
            assertTrue(line.contains(impostor.workerId()) && line.contains("fingerprint " + record.contract().modelFingerprint()
                    + " instead of " + good.record().contract().modelFingerprint()) && line.contains("the model file this gateway loaded"), line);

            for (int i = 0; i < 8; i++) {
                Reply r = http.post("/v1/chat/completions", chat(MODEL, "hello " + i).put("max_tokens", 2));
                assertEquals(200, r.status(), r.body());
            }
            assertEquals(0, impostorMeters.get("tandem.worker.prompt.tokens").counter().count(), "no request reached the impostor");
            assertEquals(List.of(MODEL), modelIds(http));
            assertEquals(1, refused(meters, "fingerprint"), "counted once, not per request or heartbeat");
            assertEquals(1, warnings.size(), "logged once");

            // alone, it makes nothing ready and serves nothing
            sync(good.undeploy(gateway.vertx()));
            await("the good worker gone", Duration.ofSeconds(10), () -> gateway.registry().liveWorkers(MODEL).size() == 1);
            assertEquals(503, http.get("/ready").status());
            assertEquals(List.of(), modelIds(http));
            Reply r = http.post("/v1/chat/completions", chat(MODEL, "anyone?"));
            assertTrue(r.error(503).getString("message").contains("1 live worker(s) refused for a cluster-contract mismatch"), r.body());
            assertEquals(0, impostorMeters.get("tandem.worker.prompt.tokens").counter().count());
        } finally {
            gateLog.removeHandler(capture);
            sync(gateway.stop());
        }
    }

    private record Turn(List<Integer> answer, int cachedTokens) {}

    /** A greedy 4-token completion of token ids, its answer read back as ids. */
    private static Turn complete(Http http, List<Integer> prompt) {
        JsonObject body = new JsonObject().put("model", MODEL).put("prompt", new JsonArray(new ArrayList<>(prompt)))
                .put("max_tokens", 4).put("temperature", 0).put("ignore_eos", true).put("logprobs", 0)
                .put("return_tokens_as_token_ids", true);
        Reply r = http.post("/v1/completions", body);
        assertEquals(200, r.status(), r.body());
        JsonObject json = r.json();
        List<Integer> answer = new ArrayList<>();
        for (Object t : json.getJsonArray("choices").getJsonObject(0).getJsonObject("logprobs").getJsonArray("tokens")) {
            answer.add(Integer.parseInt(t.toString().substring("token_id:".length())));
        }
        return new Turn(answer, json.getJsonObject("usage").getJsonObject("prompt_tokens_details").getInteger("cached_tokens"));
    }

    private static long[] lookups(List<DeployedWorker> workers) {
        return workers.stream().mapToLong(w -> ((CpuEngine) w.engine()).stats().prefixCache().lookups()).toArray();
    }

    /** The one worker whose prefix cache was looked up since {@code before} (requests run one at a time). */
    private static String servedBy(List<DeployedWorker> workers, long[] before) {
        long[] after = lookups(workers);
        List<String> served = new ArrayList<>();
        for (int i = 0; i < workers.size(); i++) if (after[i] > before[i]) served.add(workers.get(i).workerId());
        assertEquals(1, served.size(), "exactly one worker served the request: " + served);
        return served.getFirst();
    }

    private static double prefixHitBlocks(MeterRegistry meters) {
        return meters.get("tandem.router.prefix.hit.blocks").tag("mode", "kv").counter().count();
    }

    private static double refused(MeterRegistry meters, String reason) {
        var c = meters.find("tandem.gateway.workers.refused").tag("model", MODEL).tag("reason", reason).counter();
        return c == null ? 0 : c.count();
    }

    private static List<String> modelIds(Http http) {
        List<String> ids = new ArrayList<>();
        for (Object m : http.get("/v1/models").json().getJsonArray("data")) ids.add(((JsonObject) m).getString("id"));
        return ids;
    }
}
