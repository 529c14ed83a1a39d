package io.tandem.worker.stream;

import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.TokenLogprobs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Credit accounting for sending one token stream: tokens the engine produced wait here until
 * the consumer has granted credit for them (one credit = one token). Pure logic, no I/O: the
 * caller sends what {@link #take} returns. Tokens beyond the credit are bounded by
 * {@code capacity} — the engine is paused when credit runs out ({@link CreditGate}), so only the
 * tokens of steps already under way can exceed it; more means the engine ignored the pause,
 * which {@link #add} reports instead of growing without bound.
 */
public final class TokenOutbox {
    private final int capacity;
    private long credits;
    private int[] tokens = new int[8];
    private final List<TokenLogprobs> logprobs = new ArrayList<>();
    private boolean anyLogprobs;
    private int size;
    private long nextSeq;

    public TokenOutbox(int initialCredits, int capacity) {
        if (initialCredits < 0) throw new IllegalArgumentException("initialCredits must be >= 0");
        if (capacity < 1) throw new IllegalArgumentException("capacity must be >= 1");
        this.credits = initialCredits;
        this.capacity = capacity;
    }

    /** Buffers a produced token; false (and nothing buffered) if {@code capacity} tokens beyond the credit wait already. */
    public boolean add(int token, TokenLogprobs lp) {
        if (size - credits >= capacity) return false;
        if (size == tokens.length) tokens = Arrays.copyOf(tokens, size * 2);
        tokens[size++] = token;
        logprobs.add(lp);
        anyLogprobs |= lp != null;
        return true;
    }

    /** The consumer may receive {@code n} more tokens. Non-positive grants are ignored. */
    public void grant(int n) {
        if (n > 0) credits = Math.min(Long.MAX_VALUE / 2, credits + n);
    }

    /**
     * The buffered tokens the credit allows, as one message (its seq one past the previous
     * message's), or null when nothing can be sent now. Consumes the credit.
     */
    public StreamMessage.Tokens take(String requestId) {
        int n = (int) Math.min(size, credits);
        if (n == 0) return null;
        int[] out = Arrays.copyOf(tokens, n);
        TokenLogprobs[] lps = anyLogprobs ? logprobs.subList(0, n).toArray(TokenLogprobs[]::new) : null;
        System.arraycopy(tokens, n, tokens, 0, size - n);
        logprobs.subList(0, n).clear();
        size -= n;
        if (size == 0) anyLogprobs = false;
        credits -= n;
        return new StreamMessage.Tokens(requestId, nextSeq++, out, lps);
    }

    /** No credit left to send with. */
    public boolean exhausted() {
        return credits == 0;
    }

    public long credits() {
        return credits;
    }

    /** Tokens produced but not yet sendable. */
    public int pending() {
        return size;
    }

    public int capacity() {
        return capacity;
    }

    /** Drops buffered tokens (the stream ends without them, e.g. on cancel). */
    public void discard() {
        size = 0;
        logprobs.clear();
        anyLogprobs = false;
    }

    /** Number of Tokens messages taken so far. */
    public long messagesSent() {
        return nextSeq;
    }
}
