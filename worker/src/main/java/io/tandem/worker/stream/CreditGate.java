package io.tandem.worker.stream;

import io.tandem.engine.Engine;

/**
 * The engine-side half of a stream's flow control. It counts tokens as the engine produces them
 * (on the engine thread) and pauses the engine's sequence the moment the granted credit is used
 * up — not when the event loop gets round to it — so a lagging event loop cannot let the engine
 * run ahead of the consumer. Grants (on the worker's context) resume it. The engine's pause takes
 * effect at its next step, so at most the tokens of steps already under way exceed the credit.
 */
public final class CreditGate {
    private final Engine engine;
    private final String requestId;
    private long credits;
    private boolean paused;

    public CreditGate(Engine engine, String requestId, int initialCredits) {
        this.engine = engine;
        this.requestId = requestId;
        this.credits = initialCredits;
    }

    /** Once the engine holds the request: pauses it at once when there is no initial credit. */
    public synchronized void start() {
        update();
    }

    /** A token was produced (engine thread). */
    public synchronized void produced() {
        credits--;
        update();
    }

    /** The consumer granted {@code n} more tokens (worker context). */
    public synchronized void granted(int n) {
        if (n <= 0) return;
        credits = Math.min(Long.MAX_VALUE / 2, credits + n);
        update();
    }

    public synchronized boolean paused() {
        return paused;
    }

    // setPaused only flips a flag in the engine: cheap enough to call under this lock
    private void update() {
        boolean shouldPause = credits <= 0;
        if (shouldPause != paused) {
            paused = shouldPause;
            engine.setPaused(requestId, paused);
        }
    }
}
