package io.tandem.gateway.planner;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * The arrival rate and token mix of the requests that finished in the last {@code window}: one {@link #record} per
 * finished request, and one {@link #refused} per request turned away for want of capacity (busy workers, an
 * unattainable SLO, a queue wait in vain) — demand too, or a pool that refuses work would never look short of it. Memory is fixed: the window is a ring of {@code buckets} time slices, each summing its requests,
 * so the oldest slice leaves the window whole (the window slides by one slice at a time). Thread-safe.
 */
public final class ArrivalWindow {
    public static final Duration DEFAULT_WINDOW = Duration.ofSeconds(60);

    private final long sliceMillis;
    private final LongSupplier clockMillis;
    private final long startedMillis;
    /** Per slice: its index (time / sliceMillis; -1 when unused), then requests, prompt, cached and output tokens. */
    private final long[] slice, requests, prompt, cached, output, refused, refusedPrompt;

    /** The last minute in 60 one-second slices, on the wall clock. */
    public ArrivalWindow() {
        this(DEFAULT_WINDOW, 60, System::currentTimeMillis);
    }

    public ArrivalWindow(Duration window, int buckets, LongSupplier clockMillis) {
        if (buckets < 1 || window.toMillis() < buckets) {
            throw new IllegalArgumentException("the window needs >= 1 bucket of >= 1 ms, got " + buckets + " in " + window);
        }
        this.sliceMillis = window.toMillis() / buckets;
        this.clockMillis = clockMillis;
        this.startedMillis = clockMillis.getAsLong();
        slice = new long[buckets];
        requests = new long[buckets];
        prompt = new long[buckets];
        cached = new long[buckets];
        output = new long[buckets];
        refused = new long[buckets];
        refusedPrompt = new long[buckets];
        java.util.Arrays.fill(slice, -1);
    }

    /** One request finished with these token counts (as its usage reports them). */
    public synchronized void record(int promptTokens, int cachedTokens, int outputTokens) {
        int at = currentSlice();
        requests[at]++;
        prompt[at] += Math.max(0, promptTokens);
        cached[at] += Math.max(0, Math.min(cachedTokens, promptTokens));
        output[at] += Math.max(0, outputTokens);
    }

    /** A request with {@code promptTokens} prompt tokens was refused for want of capacity (429, 503). */
    public synchronized void refused(int promptTokens) {
        int at = currentSlice();
        refused[at]++;
        refusedPrompt[at] += Math.max(0, promptTokens);
    }

    private int currentSlice() {
        long index = clockMillis.getAsLong() / sliceMillis;
        int at = (int) Math.floorMod(index, (long) slice.length);
        if (slice[at] != index) {
            slice[at] = index;
            requests[at] = prompt[at] = cached[at] = output[at] = refused[at] = refusedPrompt[at] = 0;
        }
        return at;
    }

    /** The mix over the window ending now (over the time since this window was made, while that is shorter). */
    public synchronized RequestMix mix() {
        long now = clockMillis.getAsLong();
        long current = now / sliceMillis, oldest = current - slice.length + 1;
        long n = 0, p = 0, c = 0, o = 0, r = 0, rp = 0;
        for (int i = 0; i < slice.length; i++) {
            if (slice[i] < oldest || slice[i] > current) continue;
            n += requests[i];
            p += prompt[i];
            c += cached[i];
            o += output[i];
            r += refused[i];
            rp += refusedPrompt[i];
        }
        // the window's slices cover from the oldest one's start to now
        long spanMillis = Math.min(now - oldest * sliceMillis, Math.max(sliceMillis, now - startedMillis));
        return RequestMix.of(n, r, Math.max(1, spanMillis) / 1000.0, p, c, o, rp);
    }
}
