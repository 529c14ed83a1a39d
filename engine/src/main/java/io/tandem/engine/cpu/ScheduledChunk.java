package io.tandem.engine.cpu;

/**
 * The work of one sequence in one engine step: its next {@code tokens} uncomputed tokens, starting at
 * {@code startPosition}. A chunk that reaches the sequence's last token yields the logits of its next token.
 */
record ScheduledChunk(EngineSequence sequence, int startPosition, int tokens) {

    /** Whether this chunk ends at the sequence's last token, so a token is sampled after it. */
    boolean samples() {
        return startPosition + tokens == sequence.kv().tokenCount();
    }
}
