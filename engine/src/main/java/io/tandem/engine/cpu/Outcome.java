package io.tandem.engine.cpu;

import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.TokenLogprobs;

/** What a sequence's sink is told when the sequence leaves the engine. */
sealed interface Outcome {

    /** A prefill-only sequence's first token, then {@code LENGTH} — if its KV sends succeed, else a failure. */
    record FirstToken(int token, TokenLogprobs logprobs) implements Outcome {
    }

    record Finished(FinishReason reason) implements Outcome {
    }

    record Failed(ErrorCode code, String message) implements Outcome {
    }
}
