package io.tandem.loadtests.replay;

/**
 * A trace entry made into a request.
 *
 * @param index     its line among the replayed entries (0-based)
 * @param sendAtNanos when to send it, after the start of the replay: its trace timestamp, minus the first one's,
 *                  divided by the speedup
 * @param prompt    token ids
 * @param maxTokens the output length, streamed in full ({@code ignore_eos})
 * @param clipped   the prompt was shortened to fit the model's context
 */
public record ReplayRequest(int index, long sendAtNanos, int[] prompt, int maxTokens, boolean clipped) {}
