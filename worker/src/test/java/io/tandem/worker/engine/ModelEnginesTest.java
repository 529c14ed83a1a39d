package io.tandem.worker.engine;

import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.model.BundledModel;
import io.tandem.model.LoadedModel;
import io.tandem.model.tokenizer.Tokenizer;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.tandem.protocol.WorkerRole;
import io.tandem.worker.WorkerOptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The simulated engine over the bundled model's real tokenizer. */
class ModelEnginesTest {

    @Test
    void simOverTheBundledModelSamplesItsVocabularyButNoControlToken() throws Exception {
        WorkerOptions options = WorkerOptions.defaults(WorkerRole.BOTH)
                .withEngine("sim", Map.of("decodeStepNanos", 0, "perSequenceNanos", 0, "perContextTokenNanos", 0, "prefillNanosPerToken", 0));
        try (LoadedEngine loaded = new ModelEngines().open(options);
             LoadedModel model = LoadedModel.open(BundledModel.path())) {
            Tokenizer tok = model.tokenizer();
            assertEquals("tandem-fortune-5m", loaded.modelName(), "general.name of the bundled model");
            assertEquals(loaded.modelName(), loaded.engine().info().modelName());
            assertEquals(tok.vocabSize(), loaded.engine().info().vocabSize());
            assertTrue(loaded.maxContext() > 0);

            ConcurrentLinkedQueue<Integer> ids = new ConcurrentLinkedQueue<>();
            int[] prompt = tok.encode("hello", true, false);
            int room = loaded.maxContext() - prompt.length;
            for (long seed = 0; seed < 20; seed++) {
                CompletableFuture<Usage> done = new CompletableFuture<>();
                SamplingParams s = new SamplingParams(room + 100, 1f, 1f, 0, 0f, seed, 0f, 0f, null, true, -1);
                loaded.engine().submit(new EngineRequest("m" + seed, prompt, s), new TokenSink() {
                    public void onToken(int token, TokenLogprobs lp) {
                        ids.add(token);
                    }

                    public void onFinished(FinishReason reason, Usage usage) {
                        done.complete(reason == FinishReason.LENGTH ? usage : null);
                    }

                    public void onFailed(ErrorCode code, String message) {
                        done.completeExceptionally(new AssertionError(message));
                    }
                });
                assertEquals(new Usage(prompt.length, room, 0), done.get(10, TimeUnit.SECONDS), "runs to the model's context length");
            }
            for (int id : ids) {
                assertTrue(id >= 0 && id < tok.vocabSize());
                assertFalse(tok.isControl(id), "sampled control token " + id + " " + tok.tokenText(id));
                assertFalse(tok.isEndOfGeneration(id));
            }
            assertTrue(ids.stream().distinct().count() > Math.min(1000, tok.vocabSize() / 2), "spread over the vocabulary");
        }
    }

    @Test
    void theDefaultEngineComputesTheBundledModel() throws Exception {
        WorkerOptions options = WorkerOptions.defaults(WorkerRole.BOTH).withEngine("cpu", Map.of("threads", 2, "kv-cache-memory", "16MiB"));
        assertEquals("cpu", WorkerOptions.defaults(WorkerRole.BOTH).engine(), "cpu is the default");
        try (LoadedEngine loaded = new ModelEngines().open(options);
             LoadedModel model = LoadedModel.open(BundledModel.path())) {
            assertInstanceOf(io.tandem.engine.cpu.CpuEngine.class, loaded.engine());
            int[] prompt = model.tokenizer().encode("A fortune:", true, false);
            List<int[]> runs = new java.util.ArrayList<>();
            for (int run = 0; run < 2; run++) {
                CompletableFuture<Usage> done = new CompletableFuture<>();
                List<Integer> tokens = new java.util.concurrent.CopyOnWriteArrayList<>();
                loaded.engine().submit(new EngineRequest("g" + run, prompt, SamplingParams.greedy(16)), new TokenSink() {
                    public void onToken(int token, TokenLogprobs lp) {
                        tokens.add(token);
                    }

                    public void onFinished(FinishReason reason, Usage usage) {
                        done.complete(usage);
                    }

                    public void onFailed(ErrorCode code, String message) {
                        done.completeExceptionally(new AssertionError(message));
                    }
                });
                Usage usage = done.get(10, TimeUnit.SECONDS);
                assertEquals(tokens.size(), usage.completionTokens());
                assertTrue(tokens.size() > 0);
                runs.add(tokens.stream().mapToInt(Integer::intValue).toArray());
            }
            assertArrayEquals(runs.get(0), runs.get(1), "greedy is deterministic (the second run hits the prefix cache)");
        }
        var bad = assertThrows(IllegalArgumentException.class, () -> new ModelEngines().open(
                WorkerOptions.defaults(WorkerRole.BOTH).withEngine("cpu", Map.of("kv-cache-memroy", "1g"))));
        assertTrue(bad.getMessage().contains("kv-cache-memory"), bad.getMessage());
    }

    /** What a worker states in its registry record: the model file's fingerprint and its engine's KV terms. */
    @Test
    void theContractStatesTheModelFileAndTheEnginesKvCache() throws Exception {
        String fingerprint;
        io.tandem.model.ModelConfig config;
        try (LoadedModel model = LoadedModel.open(BundledModel.path())) {
            fingerprint = model.fingerprint();
            config = model.config();
        }
        WorkerOptions cpu = WorkerOptions.defaults(WorkerRole.BOTH)
                .withEngine("cpu", Map.of("threads", 1, "kv-cache-memory", "4MiB", "block-size", 32, "kv-dtype", "f16"));
        try (LoadedEngine loaded = new ModelEngines().open(cpu)) {
            assertEquals(io.tandem.protocol.ClusterContract.of(fingerprint, 32, "f16",
                    config.blockCount() + "x" + config.headCountKv() + "x" + config.headDim()), loaded.contract());
        }
        WorkerOptions sim = WorkerOptions.defaults(WorkerRole.BOTH).withEngine("sim", Map.of());
        try (LoadedEngine loaded = new ModelEngines().open(sim)) {
            assertEquals(io.tandem.protocol.ClusterContract.of(fingerprint, loaded.engine().info().blockSize(),
                    io.tandem.protocol.ClusterContract.NO_KV, io.tandem.protocol.ClusterContract.NO_KV), loaded.contract());
        }
    }

    @Test
    void unknownEnginesAndMissingModelsAreClearErrors() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new ModelEngines().open(WorkerOptions.defaults(WorkerRole.BOTH).withEngine("tensorrt", Map.of())));
        assertEquals("unknown engine 'tensorrt'; available engines: cpu, sim", e.getMessage());
        Exception missing = assertThrows(Exception.class,
                () -> new ModelEngines().open(WorkerOptions.defaults(WorkerRole.BOTH).withModelPath(Path.of("/nonexistent/model.gguf"))));
        assertTrue(missing.getMessage().contains("/nonexistent/model.gguf"), missing.getMessage());
    }
}
