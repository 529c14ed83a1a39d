package io.tandem.engine;

import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;

/** Receives one request's output, on an engine thread. Exactly one of the terminal calls comes last. */
public interface TokenSink {

    /** One generated token; {@code logprobs} is null unless requested. */
    void onToken(int token, TokenLogprobs logprobs);

    /** Terminal: the sequence ended (EOS, stop token, max tokens, context, or cancel). */
    void onFinished(FinishReason reason, Usage usage);

    /** Terminal: the engine failed this request. */
    void onFailed(ErrorCode code, String message);
}
