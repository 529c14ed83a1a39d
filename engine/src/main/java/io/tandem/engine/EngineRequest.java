package io.tandem.engine;

import io.tandem.protocol.SamplingParams;

/** A tokenized request as the engine sees it. */
public record EngineRequest(String requestId, int[] promptTokens, SamplingParams sampling) {}
