package io.tandem.engine.remote;

/**
 * Blocks a decode engine reserved for a request whose prompt KV a prefill worker may compute: the whole prompt's
 * block table, of which the first {@code cachedTokens} positions are already there (this engine's prefix-cache hit).
 * A prefill worker writes positions {@code [cachedTokens, promptTokens.length)} into these blocks.
 */
public record KvReservation(String requestId, int[] promptTokens, int[] blockTable, int cachedTokens) {

    /** Prompt positions the remote prefill must supply. */
    public int uncachedTokens() {
        return promptTokens.length - cachedTokens;
    }
}
