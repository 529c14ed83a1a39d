package io.tandem.engine.cpu;

import io.tandem.engine.forward.Batch;
import io.tandem.engine.forward.ForwardResult;
import io.tandem.engine.forward.LayerListener;
import io.tandem.engine.forward.Transformer;
import io.tandem.engine.kernels.ComputePriority;
import io.tandem.engine.kv.KvArenas;
import io.tandem.engine.sample.Sampler;

/**
 * The real model step: the transformer's forward pass over the paged KV cache, then the sampler on its logits rows.
 * The thread that runs the steps (the engine thread, which computes beside the pool's workers) is set to the
 * {@code priority} of the pool's workers on its first step.
 */
final class TransformerRunner implements ModelRunner {
    private final Transformer model;
    private final KvArenas cache;
    private final Sampler sampler;
    private final ComputePriority priority;
    private Thread stepThread;

    TransformerRunner(Transformer model, KvArenas cache) {
        this(model, cache, ComputePriority.UNCHANGED);
    }

    TransformerRunner(Transformer model, KvArenas cache, ComputePriority priority) {
        this.model = model;
        this.cache = cache;
        this.sampler = new Sampler(model.config().vocabSize());
        this.priority = priority;
    }

    @Override
    public int contextLength() {
        return model.config().contextLength();
    }

    @Override
    public StepOutput forward(Batch batch, LayerListener listener) {
        if (stepThread != Thread.currentThread()) {
            stepThread = Thread.currentThread();
            priority.applyToCurrentThread();
        }
        ForwardResult result = model.step(batch, cache, listener); // sampled below, before the next step
        return (span, context, sampling) -> sampler.sample(result.array(), result.offset(span, 0), sampling);
    }

    Transformer model() {
        return model;
    }
}
