package io.tandem.gateway.planner;

/**
 * What the requests that finished in the planner's window looked like.
 *
 * @param requests                 requests finished in the window
 * @param windowSeconds            the time those requests span (the window, or less while the gateway is younger)
 * @param requestsPerSecond        {@code requests / windowSeconds}: the arrival rate λ (a finished request arrived once)
 * @param meanPromptTokens         mean prompt tokens of a request
 * @param meanUncachedPromptTokens mean prompt tokens not found in the worker's prefix cache (prompt − cached_tokens):
 *                                 the prefill work a request brings
 * @param prefixHitRate            cached prompt tokens / prompt tokens (0 with no prompt tokens)
 * @param meanOutputTokens         mean completion tokens of a request
 */
public record RequestMix(long requests, double windowSeconds, double requestsPerSecond, double meanPromptTokens,
                         double meanUncachedPromptTokens, double prefixHitRate, double meanOutputTokens) {

    public static RequestMix empty(double windowSeconds) {
        return new RequestMix(0, windowSeconds, 0, 0, 0, 0, 0);
    }

    /** The mix of {@code requests} requests over {@code seconds} with these token sums. */
    public static RequestMix of(long requests, double seconds, long promptTokens, long cachedTokens, long outputTokens) {
        if (requests <= 0) return empty(seconds);
        return new RequestMix(requests, seconds, requests / seconds, (double) promptTokens / requests,
                (double) (promptTokens - cachedTokens) / requests,
                promptTokens == 0 ? 0 : (double) cachedTokens / promptTokens, (double) outputTokens / requests);
    }

    public boolean idle() {
        return requests == 0;
    }
}
