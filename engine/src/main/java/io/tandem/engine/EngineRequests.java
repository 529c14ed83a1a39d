package io.tandem.engine;

import io.tandem.protocol.ErrorCode;

/** The checks every engine makes before taking a request, with the errors clients see. */
public final class EngineRequests {
    private EngineRequests() {
    }

    /**
     * Refuses an empty prompt, one that leaves no room in the context, one with a token outside the vocabulary, or a
     * resumed request with nothing left to generate. A resumed request's generated tokens count as prompt here.
     */
    public static void checkPrompt(EngineRequest r, EngineInfo info) throws EngineRejectedException {
        if (r.promptTokens() == null || r.promptTokens().length == 0) {
            throw new EngineRejectedException(ErrorCode.INVALID_REQUEST, "the prompt is empty");
        }
        if (r.resumedTokens().length >= r.sampling().maxTokens()) {
            throw new EngineRejectedException(ErrorCode.INVALID_REQUEST, "the request resumes after "
                    + r.resumedTokens().length + " generated tokens; max_tokens " + r.sampling().maxTokens() + " leaves none to generate");
        }
        int[] prompt = r.contextTokens();
        if (prompt.length >= info.contextLength()) {
            throw new EngineRejectedException(ErrorCode.INVALID_REQUEST, "the prompt has " + prompt.length
                    + " tokens but the context holds " + info.contextLength() + " (prompt plus at least one generated token)");
        }
        for (int i = 0; i < prompt.length; i++) {
            if (prompt[i] < 0 || prompt[i] >= info.vocabSize()) {
                throw new EngineRejectedException(ErrorCode.INVALID_REQUEST, "prompt token " + prompt[i] + " at position "
                        + i + " is outside the vocabulary (0.." + (info.vocabSize() - 1) + ")");
            }
        }
    }

    /** What a shut-down engine answers. */
    public static EngineRejectedException closed() {
        return new EngineRejectedException(ErrorCode.UNAVAILABLE, "the engine is shut down");
    }
}
