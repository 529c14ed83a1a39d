package io.tandem.gateway.grpc;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.CompletionRequest;
import io.tandem.gateway.api.Endpoint;
import io.tandem.gateway.api.RequestParser;
import io.tandem.gateway.preprocess.PreparedRequest;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.grpc.v1.GenerateRequest;
import io.tandem.protocol.grpc.v1.SamplingParameters;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * A {@code tandem.v1.Generate} request as the OpenAI {@code /v1/completions} request with a token-id prompt it
 * stands for, validated by the same {@link RequestParser} (so a bad value gets the HTTP API's message), plus its
 * stop token ids, which the HTTP API has no field for. Pure.
 */
final class TokenRequests {

    private TokenRequests() {}

    static CompletionRequest parse(GenerateRequest r) {
        JsonArray prompt = new JsonArray();
        for (int id : r.getPromptTokenIdsList()) prompt.add(Integer.toUnsignedLong(id));
        JsonObject body = new JsonObject().put("model", r.getModel()).put("prompt", prompt);
        SamplingParameters s = r.getSampling();
        if (s.hasMaxTokens()) body.put("max_tokens", Integer.toUnsignedLong(s.getMaxTokens().getValue()));
        if (s.hasTemperature()) body.put("temperature", s.getTemperature().getValue());
        if (s.hasTopP()) body.put("top_p", s.getTopP().getValue());
        if (s.hasTopK()) body.put("top_k", s.getTopK().getValue());
        if (s.hasMinP()) body.put("min_p", s.getMinP().getValue());
        if (s.hasSeed()) body.put("seed", s.getSeed().getValue());
        if (s.hasPresencePenalty()) body.put("presence_penalty", s.getPresencePenalty().getValue());
        if (s.hasFrequencyPenalty()) body.put("frequency_penalty", s.getFrequencyPenalty().getValue());
        if (s.getIgnoreEos()) body.put("ignore_eos", true);
        if (r.hasLogprobs()) body.put("logprobs", Integer.toUnsignedLong(r.getLogprobs().getValue()));
        return RequestParser.parse(Endpoint.COMPLETION, body);
    }

    /** {@code prepared} with the request's stop token ids, each checked against the vocabulary. */
    static PreparedRequest withStopTokens(PreparedRequest prepared, GenerateRequest r, int vocabSize) {
        if (r.getSampling().getStopTokenIdsCount() == 0) return prepared;
        int[] stops = new int[r.getSampling().getStopTokenIdsCount()];
        for (int i = 0; i < stops.length; i++) {
            long id = Integer.toUnsignedLong(r.getSampling().getStopTokenIds(i));
            if (id >= vocabSize) {
                throw ApiException.invalid("sampling.stop_token_ids", "Token id " + id + " at sampling.stop_token_ids[" + i
                        + "] is outside the vocabulary (0.." + (vocabSize - 1) + ")");
            }
            stops[i] = (int) id;
        }
        SamplingParams s = prepared.sampling();
        return new PreparedRequest(prepared.promptTokens(), new SamplingParams(s.maxTokens(), s.temperature(), s.topP(),
                s.topK(), s.minP(), s.seed(), s.presencePenalty(), s.frequencyPenalty(), stops, s.ignoreEos(), s.logprobs()));
    }
}
