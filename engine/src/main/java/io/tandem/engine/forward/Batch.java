package io.tandem.engine.forward;

import java.util.List;

/** The spans computed together in one forward step (continuous batching: prefill chunks and decodes mixed). */
public record Batch(List<SequenceSpan> spans) {

    public Batch {
        spans = List.copyOf(spans);
        if (spans.isEmpty()) throw new IllegalArgumentException("empty batch");
    }

    public static Batch of(SequenceSpan... spans) {
        return new Batch(List.of(spans));
    }

    public int size() {
        return spans.size();
    }

    public int totalTokens() {
        int n = 0;
        for (SequenceSpan s : spans) n += s.length();
        return n;
    }
}
