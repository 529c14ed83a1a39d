package io.tandem.worker.stream;

import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;

/** What an engine reported for one request, carried from the engine thread to the verticle. */
public sealed interface EngineEvent {
    record Token(int token, TokenLogprobs logprobs) implements EngineEvent {}

    record Finished(FinishReason reason, Usage usage) implements EngineEvent {}

    record Failed(ErrorCode code, String message) implements EngineEvent {}
}
