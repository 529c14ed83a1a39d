package io.tandem.engine.remote;

import io.tandem.engine.Engine;
import io.tandem.engine.EngineRejectedException;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.engine.kv.KvArenas;
import io.tandem.protocol.TokenLogprobs;

/**
 * An engine that can split a request's prefill from its decode across workers: as the decode side it reserves blocks
 * and waits for a prefill worker to fill them; as the prefill side it computes a prompt and exports its KV layer by
 * layer. The output equals running the request on one engine.
 */
public interface DisaggregatedEngine extends Engine {

    /** The paged KV cache (its arenas are the memory a transfer agent registered). */
    KvArenas kvCache();

    /** Like {@link #submit(EngineRequest, TokenSink)}, with the option of a remote prefill through {@code remote}. */
    void submit(EngineRequest request, TokenSink sink, RemotePrefill remote) throws EngineRejectedException;

    /**
     * Computes the prompt (reusing this engine's prefix cache), exporting its KV through {@code export}, and samples
     * the first token with the request's sampling parameters: {@code sink} gets that token (always, even an end
     * token: the decode worker applies the stop rules), then {@code onFinished(LENGTH)} — once every send is done
     * ({@code onFailed} if one failed). The engine never waits for the sends: it polls the export and meanwhile runs
     * its other requests. Whatever the ending (cancel, failure, shutdown), the request's blocks are released and its
     * sink hears the outcome only after the sends already posted have settled.
     */
    void submitPrefill(EngineRequest request, TokenSink sink, KvExport export) throws EngineRejectedException;

    /** The remote KV of a reserved request is in place, and the prefill worker sampled {@code firstToken}. Any thread. */
    void completeRemotePrefill(String requestId, int firstToken, TokenLogprobs logprobs);

    /** The remote prefill failed or timed out: the request prefills locally (or ends, if it was cancelled). Any thread. */
    void failRemotePrefill(String requestId, String reason);
}
