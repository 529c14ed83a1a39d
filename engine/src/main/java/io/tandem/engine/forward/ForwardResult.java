package io.tandem.engine.forward;

import java.util.Arrays;

/** The logits a forward step returned: for span {@code s}, {@link SequenceSpan#logitRows()} rows of vocab values. */
public final class ForwardResult {
    private final float[] logits;
    private final int vocab;
    private final int[] firstRow;
    private final int[] rowCount;

    ForwardResult(float[] logits, int vocab, int[] firstRow, int[] rowCount) {
        this.logits = logits;
        this.vocab = vocab;
        this.firstRow = firstRow;
        this.rowCount = rowCount;
    }

    public int vocabSize() {
        return vocab;
    }

    /** Number of logits rows of span {@code span}. */
    public int rows(int span) {
        return rowCount[span];
    }

    /** Row {@code row} of span {@code span} (a copy). With {@code Logits.LAST} the only row is 0. */
    public float[] logits(int span, int row) {
        int r = check(span, row);
        return Arrays.copyOfRange(logits, r * vocab, (r + 1) * vocab);
    }

    /** The last row of span {@code span} (a copy): the logits for sampling its next token. */
    public float[] lastLogits(int span) {
        return logits(span, rowCount[span] - 1);
    }

    /** One value without copying. */
    public float logit(int span, int row, int token) {
        return logits[check(span, row) * vocab + token];
    }

    /** The backing array and where a row starts in it, for callers that must not copy (samplers). */
    public float[] array() {
        return logits;
    }

    public int offset(int span, int row) {
        return check(span, row) * vocab;
    }

    private int check(int span, int row) {
        if (row < 0 || row >= rowCount[span]) {
            throw new IndexOutOfBoundsException("span " + span + " has " + rowCount[span] + " logits rows, asked row " + row);
        }
        return firstRow[span] + row;
    }
}
