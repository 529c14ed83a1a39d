package io.tandem.gateway.preprocess;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.api.Endpoint;
import io.tandem.gateway.api.Prompt;
import io.tandem.protocol.SamplingParams;

/**
 * Chat template → token ids → sampling parameters, with the context-length checks.
 * Pure given a {@link ServedModel}; may take milliseconds (template, tokenizer), so the HTTP
 * layer runs it off the event loop unless {@link #isCheap} says it is not worth the hand-off.
 */
public final class Preprocessor {

    private Preprocessor() {}

    /** Prompts this long or shorter tokenize in well under a millisecond. */
    static final int CHEAP_TEXT_CHARS = 1024;

    /**
     * Whether preparing {@code request} is cheap enough to run on the event loop: token ids (no tokenizer) or a short
     * completion prompt. Chat requests render a template and are never inline.
     */
    public static boolean isCheap(CompletionRequest request) {
        if (request.endpoint() != Endpoint.COMPLETION) return false;
        return switch (request.prompt()) {
            case Prompt.TokenIds ids -> true;
            case Prompt.Text t -> t.text().length() <= CHEAP_TEXT_CHARS;
        };
    }

    public static PreparedRequest prepare(CompletionRequest request, ServedModel model) {
        return prepare(request, model, t -> { });
    }

    /**
     * As {@link #prepare(CompletionRequest, ServedModel)}; {@code templated} hears when the chat template was rendered
     * ({@link System#nanoTime()}; a completion has no template), so a trace can time template and tokenizer apart.
     */
    public static PreparedRequest prepare(CompletionRequest request, ServedModel model, java.util.function.LongConsumer templated) {
        String promptParam = request.endpoint() == Endpoint.CHAT ? "messages" : "prompt";
        int[] tokens = switch (request.endpoint()) {
            case CHAT -> {
                String text = model.renderChat(request.messages());
                templated.accept(System.nanoTime());
                yield model.encode(text);
            }
            case COMPLETION -> switch (request.prompt()) {
                case Prompt.Text t -> model.encode(t.text());
                case Prompt.TokenIds ids -> checkedIds(ids.ids(), model.vocabSize());
            };
        };
        if (tokens.length == 0) throw ApiException.invalid(promptParam, "The prompt is empty after tokenization");

        int context = model.contextLength();
        if (tokens.length >= context) {
            throw ApiException.contextLengthExceeded(promptParam, "This model's maximum context length is " + context
                    + " tokens. However, your prompt is " + tokens.length + " tokens, leaving no room for a completion.");
        }
        int maxTokens;
        if (request.maxTokens() == null) {
            maxTokens = context - tokens.length;
        } else {
            maxTokens = request.maxTokens();
            if ((long) tokens.length + maxTokens > context) {
                throw ApiException.contextLengthExceeded("max_tokens", "This model's maximum context length is " + context
                        + " tokens. However, you requested " + ((long) tokens.length + maxTokens) + " tokens (" + tokens.length
                        + " in the prompt, " + maxTokens + " for the completion). Reduce the prompt or max_tokens.");
            }
        }
        SamplingParams sampling = new SamplingParams(maxTokens, (float) request.temperature(), (float) request.topP(),
                request.topK(), (float) request.minP(), request.seed(), (float) request.presencePenalty(),
                (float) request.frequencyPenalty(), new int[0], request.ignoreEos(), request.logprobs());
        return new PreparedRequest(tokens, sampling);
    }

    private static int[] checkedIds(int[] ids, int vocabSize) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw ApiException.invalid("prompt", "Token id " + ids[i] + " at prompt[" + i + "] is outside the vocabulary (0.." + (vocabSize - 1) + ")");
            }
        }
        return ids.clone();
    }
}
