package io.tandem.engine.remote;

/**
 * The prefill side of a remote prefill, for one request (see {@link DisaggregatedEngine#submitPrefill}): where the
 * KV this engine computes is sent. Called on the engine thread.
 */
public interface KvExport {

    /**
     * Layer {@code layer} now holds KV for positions {@code [0, computedTokens)} of the sequence, in this engine's
     * blocks {@code blockTable}. Post the transfer of what the decode worker still lacks; do not wait for it.
     */
    void layerStored(int layer, int[] blockTable, int computedTokens);

    /**
     * Waits until every posted transfer is done; the sequence's blocks are released only afterwards (a transfer
     * still reads them). Throws when one failed or timed out; then the request fails and the decode worker
     * prefills locally.
     */
    void awaitTransfers() throws Exception;
}
