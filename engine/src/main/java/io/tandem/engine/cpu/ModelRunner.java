package io.tandem.engine.cpu;

import io.tandem.engine.cache.KvSequence;
import io.tandem.engine.forward.Batch;
import io.tandem.engine.forward.LayerListener;
import io.tandem.engine.sample.Sample;
import io.tandem.engine.sample.SequenceSampling;

/**
 * The model step {@link EngineCore} runs: the seam between scheduling (batches, blocks, prefix cache, stop rules,
 * sinks) and what computes the next tokens. The CPU engine's runner is the transformer over its paged KV cache
 * ({@link TransformerRunner}); the simulated engine's takes modelled time and derives tokens from the context.
 * Called on the engine thread only.
 */
public interface ModelRunner {

    /** Tokens of context a sequence may hold (prompt plus generated). */
    int contextLength();

    /**
     * Computes one step: every span's tokens join its sequence's KV (through its block table), and each span that asked
     * for logits ({@link io.tandem.engine.forward.SequenceSpan.Logits#LAST}) can then sample its next token from the
     * returned output. {@code listener} hears each layer stored, if the runner has layers.
     *
     * @throws RuntimeException if the step failed; every sequence of the batch fails with it
     */
    StepOutput forward(Batch batch, LayerListener listener);

    /** The next-token distributions of one step. */
    @FunctionalInterface
    interface StepOutput {
        /**
         * Samples the next token of span {@code span}, whose sequence is {@code context} (every full block of it
         * committed and hashed), with its sampling state — which records the token — and logprobs if it asks for them.
         */
        Sample sample(int span, KvSequence context, SequenceSampling sampling);
    }
}
