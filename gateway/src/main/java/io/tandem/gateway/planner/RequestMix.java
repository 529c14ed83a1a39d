package io.tandem.gateway.planner;

/**
 * What the requests that arrived in the planner's window looked like: those that finished, and those refused for
 * want of capacity (their prompts count, their output is taken as the finished ones' mean).
 *
 * @param requests                 requests finished or refused in the window
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

    /** The mix of {@code requests} finished requests over {@code seconds} with these token sums. */
    public static RequestMix of(long requests, double seconds, long promptTokens, long cachedTokens, long outputTokens) {
        return of(requests, 0, seconds, promptTokens, cachedTokens, outputTokens, 0);
    }

    /**
     * The mix of {@code finished} finished and {@code refused} refused requests over {@code seconds}: the refused
     * prompts are taken to hit the prefix cache as often as the finished ones did.
     */
    public static RequestMix of(long finished, long refused, double seconds, long promptTokens, long cachedTokens,
                                long outputTokens, long refusedPromptTokens) {
        long requests = finished + refused;
        if (requests <= 0) return empty(seconds);
        double hitRate = promptTokens == 0 ? 0 : (double) cachedTokens / promptTokens;
        double uncached = promptTokens - cachedTokens + refusedPromptTokens * (1 - hitRate);
        return new RequestMix(requests, seconds, requests / seconds, (double) (promptTokens + refusedPromptTokens) / requests,
                uncached / requests, hitRate, finished == 0 ? 0 : (double) outputTokens / finished);
    }

    public boolean idle() {
        return requests == 0;
    }
}
