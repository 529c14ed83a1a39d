package io.tandem.engine.remote;

/**
 * The decode side of a remote prefill, for one request (see {@link DisaggregatedEngine#submit}). Called on the engine
 * thread; must not block.
 */
public interface RemotePrefill {

    /**
     * Blocks for the whole prompt are reserved. Return true when a prefill worker will compute the KV: then exactly one
     * of {@link DisaggregatedEngine#completeRemotePrefill} or {@link DisaggregatedEngine#failRemotePrefill} must follow
     * (the blocks stay reserved until then). Return false to prefill locally right away.
     */
    boolean begin(KvReservation reservation);

    /**
     * The request was cancelled while its KV is computed remotely: tell the prefill worker to stop. The blocks stay
     * reserved until its complete or fail call, so a late write never lands in blocks given to another request.
     */
    void cancel(String requestId);
}
