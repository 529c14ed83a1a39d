package io.tandem.engine.sample;

import io.tandem.protocol.TokenLogprobs;

/** A sampled token and, if the request asked for them, its logprobs (else null). */
public record Sample(int token, TokenLogprobs logprobs) {}
