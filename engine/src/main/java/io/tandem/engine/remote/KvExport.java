package io.tandem.engine.remote;

/**
 * The prefill side of a remote prefill, for one request (see {@link DisaggregatedEngine#submitPrefill}): where the
 * KV this engine computes is sent. Nothing here ever waits on the network: the engine posts sends as layers are
 * stored, then polls their status once per step (and whenever the export wakes it), the way vLLM's KV connector
 * reports finished sends. The request's blocks stay held until the sends are {@link SendStatus.Done} or
 * {@link SendStatus.Failed}; only then does the engine release them and tell the request's sink.
 *
 * <p>The engine calls, in this order and on its own thread: {@link #onSettled} once; {@link #layerStored} for each
 * layer of each forward pass over the prompt; then either {@link #finishSends} (the prompt is computed and its first
 * token sampled) or {@link #cancel} (the request ended first: cancelled, failed, engine shutdown), possibly both;
 * {@link #poll} from then on until it stops answering {@link SendStatus.Pending}. An implementation may let other
 * threads call {@link #cancel} as well.
 */
public interface KvExport {

    /**
     * Registers the engine's wake-up. Run it (on any thread, without blocking, at least once) as soon as {@link #poll}
     * stops answering {@link SendStatus.Pending} after {@link #finishSends} or {@link #cancel}, so an idle engine
     * waiting only for sends neither spins nor sleeps in a poll loop. Called once, before any other method.
     */
    void onSettled(Runnable wakeup);

    /**
     * Layer {@code layer} now holds KV for positions {@code [0, computedTokens)} of the sequence, in this engine's
     * blocks {@code blockTable}. Post the transfer of what the decode worker still lacks; never wait for it. Called
     * inside the forward pass: a failure to post belongs in {@link #poll}'s answer, not in an exception.
     */
    void layerStored(int layer, int[] blockTable, int computedTokens);

    /**
     * The prompt is computed: post whatever is still held (an export that sends after the forward pass instead of
     * layer by layer) and start counting down the sends. No send is posted after this.
     */
    void finishSends();

    /**
     * The request ended before its sends finished: post nothing more. Sends already posted keep running; {@link #poll}
     * reports when none reads the blocks any more. Idempotent.
     */
    void cancel();

    /**
     * Never blocks. {@link SendStatus.Pending} until {@link #finishSends} or {@link #cancel} was called and then until
     * every posted send settled; afterwards {@link SendStatus.Done} or {@link SendStatus.Failed}, for good. An
     * implementation must settle within a bounded time (its deadline), so blocks are never held forever.
     */
    SendStatus poll();
}
