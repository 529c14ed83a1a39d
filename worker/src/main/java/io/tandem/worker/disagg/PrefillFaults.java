package io.tandem.worker.disagg;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Faults a test injects into a prefill worker, to reproduce what a slow or partitioned machine does: production
 * workers run {@link #NONE}.
 */
@FunctionalInterface
public interface PrefillFaults {
    PrefillFaults NONE = requestId -> CompletableFuture.completedFuture(null);

    /**
     * Completes when the remote prefill of {@code requestId} may start computing (and so writing its KV); called once
     * its decode peer is loaded. A test holds one back past the decode worker's timeout to make its writes arrive late.
     */
    CompletionStage<Void> beforePrefill(String requestId);

    /** Whether the decode worker's cancel of {@code requestId} is lost on the way, as an event-bus message can be. */
    default boolean loseCancel(String requestId) {
        return false;
    }
}
