package io.tandem.gateway.dispatch;

import io.tandem.gateway.api.ApiException;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;

/**
 * Receives one generation's output on the event loop of the request: {@link #onAccepted},
 * then tokens, then exactly one terminal call ({@link #onFinished} or {@link #onFailed}).
 * Failures before a worker accepted are reported through the future of
 * {@link Dispatcher#start}, not here.
 */
public interface StreamListener {

    /** A worker accepted the request; comes first, before any token. */
    void onAccepted(GenerationStream stream);

    /** New tokens in order; {@code logprobs} null unless requested and provided by the engine. */
    void onTokens(int[] tokens, TokenLogprobs[] logprobs);

    /**
     * The sequence ended. {@code usage} is the (last) worker's count; null when the gateway ended
     * the stream itself (stop string) and the worker's final count did not arrive in time.
     */
    void onFinished(FinishReason reason, Usage usage);

    /** The generation failed after it was accepted (worker failure, stream timeout, gap). */
    void onFailed(ApiException error);
}
