package io.tandem.engine.sim;

import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.Usage;

import java.util.SplittableRandom;

/**
 * One request inside the simulated engine. Counters are touched only by the scheduler thread;
 * {@code paused} and {@code cancelRequested} are set from any thread.
 */
final class SimSequence {
    final EngineRequest request;
    final TokenSink sink;
    private final SplittableRandom rng;
    private final int promptTokens;
    private int completionTokens;

    volatile boolean paused;
    volatile boolean cancelRequested;

    SimSequence(EngineRequest request, TokenSink sink, long seed) {
        this.request = request;
        this.sink = sink;
        this.rng = new SplittableRandom(seed);
        this.promptTokens = request.promptTokens().length;
    }

    String id() {
        return request.requestId();
    }

    /** Tokens of context the sequence holds (prompt plus generated). */
    int contextTokens() {
        return promptTokens + completionTokens;
    }

    int blocks(int blockSize) {
        return (contextTokens() + blockSize - 1) / blockSize;
    }

    Usage usage() {
        return new Usage(promptTokens, completionTokens, 0);
    }

    /**
     * Generates one token and hands it to the sink, unless the sequence ends here.
     *
     * @return why the sequence ended, or null if it goes on. End tokens (EOS, stop ids) end it
     *         without being emitted or counted, so usage equals what the consumer received.
     */
    FinishReason advance(SimTokenSource tokens, double eosProbability, int contextLength) {
        SamplingParams s = request.sampling();
        boolean eos = rng.nextDouble() < eosProbability; // drawn every step so ignoreEos does not shift the ids
        if (eos && tokens.hasEos() && !s.ignoreEos()) return FinishReason.STOP;
        int token = tokens.draw(rng);
        for (int stop : s.stopTokenIds()) if (stop == token) return FinishReason.STOP;
        completionTokens++;
        sink.onToken(token, null);
        if (completionTokens >= s.maxTokens() || contextTokens() >= contextLength) return FinishReason.LENGTH;
        return null;
    }
}
