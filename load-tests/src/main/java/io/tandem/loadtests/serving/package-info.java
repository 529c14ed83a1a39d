/**
 * The serving comparison's load client ({@code load-tests/compare/serving.sh}): one closed-loop generator that drives
 * any OpenAI-compatible {@code /v1/completions} server (Tandem, llama-server) with the same distinct token-id prompts,
 * streams the answers over SSE and measures per request time to first token, inter-token latency and output tokens/s
 * per concurrency level; then compares two runs against issue 12's targets.
 */
package io.tandem.loadtests.serving;
