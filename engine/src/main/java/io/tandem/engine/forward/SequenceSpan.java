package io.tandem.engine.forward;

/**
 * One sequence's part of a forward step: {@code tokens} at positions {@code startPosition ..}, appended to KV that
 * positions {@code 0 .. startPosition-1} already hold in the blocks of {@code blockTable} (block ids in position
 * order; it must have room for every new position). A prefill chunk has many tokens, a decode step one.
 *
 * @param logits which rows of logits to return for this span
 */
public record SequenceSpan(int[] tokens, int startPosition, int[] blockTable, Logits logits) {

    /** Which logits a span wants back. */
    public enum Logits {
        /** None (a prefill chunk that is not the last). */
        NONE,
        /** The row of the last token (the usual case: sample the next token). */
        LAST,
        /** One row per token (tests, prompt logprobs). */
        ALL
    }

    public SequenceSpan {
        if (tokens == null || tokens.length == 0) throw new IllegalArgumentException("a span needs at least one token");
        if (startPosition < 0) throw new IllegalArgumentException("negative start position " + startPosition);
        if (blockTable == null) throw new IllegalArgumentException("a span needs a block table");
        if (logits == null) throw new IllegalArgumentException("logits selection is required");
    }

    /** A span that wants the logits of its last token. */
    public static SequenceSpan of(int[] tokens, int startPosition, int[] blockTable) {
        return new SequenceSpan(tokens, startPosition, blockTable, Logits.LAST);
    }

    public int length() {
        return tokens.length;
    }

    /** Position after the last token of this span. */
    public int endPosition() {
        return startPosition + tokens.length;
    }

    /** Number of logits rows this span gets back. */
    public int logitRows() {
        return switch (logits) {
            case NONE -> 0;
            case LAST -> 1;
            case ALL -> tokens.length;
        };
    }
}
