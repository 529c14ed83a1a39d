package io.tandem.gateway.preprocess;

import io.tandem.protocol.SamplingParams;

/** A request ready for a worker: the prompt's token ids and resolved sampling parameters. */
public record PreparedRequest(int[] promptTokens, SamplingParams sampling) {}
