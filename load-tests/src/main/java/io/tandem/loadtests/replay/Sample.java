package io.tandem.loadtests.replay;

import io.tandem.loadtests.serving.StreamTimer;

/**
 * One replayed request.
 *
 * @param request   what was sent
 * @param sentNanos when it went out, after the start of the replay
 * @param lagNanos  how late it went out against its schedule ({@code sentNanos - request.sendAtNanos()}): a client that
 *                  cannot keep up shows here instead of silently stretching the trace
 * @param outcome   what came back
 */
public record Sample(ReplayRequest request, long sentNanos, long lagNanos, StreamTimer.Outcome outcome) {

    /** Failed: an error, or cut at the end of the run before it finished. */
    public boolean failed() {
        return !outcome.ok() || outcome.cut();
    }

    /** The median gap between this request's tokens, or -1 with fewer than two tokens. */
    public long medianItlNanos() {
        long[] itl = outcome.itlNanos().clone();
        if (itl.length == 0) return -1;
        java.util.Arrays.sort(itl);
        return itl[(itl.length - 1) / 2];
    }

    /** cached / prompt tokens of this request, or -1 when the server did not report them. */
    public double hitRate() {
        return outcome.promptTokens() > 0 && outcome.cachedTokens() >= 0 ? (double) outcome.cachedTokens() / outcome.promptTokens() : -1;
    }
}
