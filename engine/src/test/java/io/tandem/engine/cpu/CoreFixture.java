package io.tandem.engine.cpu;

import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.engine.cache.BlockPool;
import io.tandem.engine.cache.KvCacheManager;
import io.tandem.engine.cache.KvEventLog;
import io.tandem.engine.cache.KvEventSink;
import io.tandem.engine.forward.TestModels;
import io.tandem.engine.forward.Transformer;
import io.tandem.engine.kv.KvArenas;
import io.tandem.engine.kv.KvDataType;
import io.tandem.engine.kv.KvLayout;
import io.tandem.model.LoadedModel;
import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link EngineCore} on a test model, driven step by step on the test thread, so which
 * requests share a batch, how prompts are chunked and when blocks run out are all chosen by the test.
 */
final class CoreFixture implements AutoCloseable {
    private static final Map<String, int[]> EOG = new ConcurrentHashMap<>();

    final EngineCore core;
    final Transformer model;
    final KvArenas cache;
    final KvCacheManager kv;
    /** Times a KV export woke the core (its sends settled). */
    final AtomicInteger wakeups = new AtomicInteger();

    /**
     * @param numBlocks   KV blocks of 16 tokens
     * @param tokenBudget max_num_batched_tokens
     * @param maxSeqs     max_num_seqs
     */
    CoreFixture(String model, int numBlocks, int tokenBudget, int maxSeqs, boolean prefixCaching, KvEventSink events) {
        Transformer t = this.model = TestModels.get(model);
        cache = KvArenas.allocate(KvLayout.forModel(t.config(), 16, KvDataType.F32, numBlocks));
        kv = new KvCacheManager(new BlockPool(numBlocks, new KvEventLog("test", events)), new BlockHasher(model, 16),
                prefixCaching);
        core = new EngineCore(new TransformerRunner(t, cache), kv, PrefillBudget.unlimited(tokenBudget), maxSeqs,
                endOfGeneration(model), wakeups::incrementAndGet, System::nanoTime);
    }

    CoreFixture(String model, int numBlocks, int tokenBudget, int maxSeqs, boolean prefixCaching) {
        this(model, numBlocks, tokenBudget, maxSeqs, prefixCaching, KvEventSink.NONE);
    }

    static int[] endOfGeneration(String model) {
        return EOG.computeIfAbsent(model, m -> {
            try (LoadedModel lm = LoadedModel.open(TestModels.modelPath(m))) {
                return lm.tokenizer().endOfGenerationIds();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    Output add(String id, int[] prompt, SamplingParams params) {
        Output out = new Output(id);
        core.add(new EngineRequest(id, prompt, params), out);
        return out;
    }

    /** Steps until no sequence is held (bounded, so a scheduling bug fails instead of hanging). */
    void runToCompletion() {
        for (int i = 0; core.hasWork(); i++) {
            if (i > 100_000) throw new AssertionError("engine did not finish within 100000 steps");
            if (!core.step() && core.hasWork()) throw new AssertionError("work left but nothing schedulable");
        }
    }

    /** Greedy, {@code maxTokens} tokens past EOS, with the top 5 logprobs of every token. */
    static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(maxTokens, 0f, 1f, 0, 0f, null, 0f, 0f, new int[0], true, 5);
    }

    /** Runs each prompt alone in a fresh core without prefix caching: the reference of every equivalence. */
    static Map<String, Output> alone(String model, Map<String, int[]> prompts, SamplingParams params) {
        Map<String, Output> out = new LinkedHashMap<>();
        for (var e : prompts.entrySet()) {
            try (CoreFixture f = new CoreFixture(model, 64, 4096, 1, false)) {
                Output o = f.add(e.getKey(), e.getValue(), params);
                f.runToCompletion();
                out.put(e.getKey(), o);
            }
        }
        return out;
    }

    @Override
    public void close() {
        cache.close();
    }

    /** Everything one request's sink received. */
    static class Output implements TokenSink {
        final String id;
        final List<Integer> tokens = new ArrayList<>();
        final List<TokenLogprobs> logprobs = new ArrayList<>();
        FinishReason finish;
        Usage usage;
        ErrorCode error;
        String errorMessage;
        int terminalCalls;

        Output(String id) {
            this.id = id;
        }

        @Override
        public void onToken(int token, TokenLogprobs lp) {
            if (terminalCalls > 0) throw new AssertionError(id + ": token after the terminal callback");
            tokens.add(token);
            logprobs.add(lp);
        }

        @Override
        public void onFinished(FinishReason reason, Usage usage) {
            terminalCalls++;
            this.finish = reason;
            this.usage = usage;
        }

        @Override
        public void onFailed(ErrorCode code, String message) {
            terminalCalls++;
            this.error = code;
            this.errorMessage = message;
        }

        int[] tokenArray() {
            return tokens.stream().mapToInt(Integer::intValue).toArray();
        }
    }
}
