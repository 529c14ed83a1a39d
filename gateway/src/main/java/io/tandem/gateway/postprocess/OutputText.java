package io.tandem.gateway.postprocess;

import java.util.List;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * Turns one request's generated token ids into the text the client sees: incremental,
 * UTF-8-safe detokenizing, then stop strings. Counts the tokens consumed so usage stays honest
 * when a stop string ends the text early.
 */
public final class OutputText {

    /** Text to emit now; {@code stopped} once a stop string matched (nothing more will come). */
    public record Delta(String text, boolean stopped) {}

    private final IntFunction<String> detokenizer;
    private final Supplier<String> flusher;
    private final StopMatcher stops;
    private int consumedTokens;

    /**
     * @param push  the incremental detokenizer's push (complete text for one more token)
     * @param flush the incremental detokenizer's flush (text left at the end)
     */
    public OutputText(IntFunction<String> push, Supplier<String> flush, List<String> stopStrings) {
        this.detokenizer = push;
        this.flusher = flush;
        this.stops = new StopMatcher(stopStrings);
    }

    /** Consumes tokens until a stop string matches (the rest of {@code tokens} is ignored). */
    public Delta push(int[] tokens) {
        StringBuilder out = new StringBuilder();
        for (int token : tokens) {
            if (stops.stopped()) break;
            consumedTokens++;
            StopMatcher.Result r = stops.push(detokenizer.apply(token));
            out.append(r.text());
        }
        return new Delta(out.toString(), stops.stopped());
    }

    /** The sequence ended: the detokenizer's and the stop matcher's held-back text. */
    public String finish() {
        if (stops.stopped()) return "";
        StringBuilder out = new StringBuilder(stops.push(flusher.get()).text());
        out.append(stops.flush());
        return out.toString();
    }

    public boolean stopped() {
        return stops.stopped();
    }

    /** Tokens consumed so far (including the one that completed a stop string). */
    public int consumedTokens() {
        return consumedTokens;
    }
}
