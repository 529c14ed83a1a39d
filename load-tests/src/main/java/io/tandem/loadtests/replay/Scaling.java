package io.tandem.loadtests.replay;

import io.tandem.loadtests.serving.Prompts;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * How a Mooncake trace's 512-token blocks become a prompt for a model: every hash id becomes {@code blockTokens} token
 * ids drawn from {@code [FIRST_ID, vocab)} by a generator seeded with the id, so equal ids give equal blocks and a
 * shared run of ids a shared prefix. Lengths shrink by {@code blockTokens / 512}, rounded up: the input length (so a
 * partial last block stays partial), and the output length likewise, which keeps the trace's input to output ratio
 * (the prefill to decode balance). Prompt and output must fit the model's context: the output is cut to leave one
 * prompt token, then the prompt to what remains (its tail goes, its shared prefix stays), and the request counts as
 * clipped.
 *
 * @param blockTokens the tokens one hash id becomes (the server's KV block size makes hits whole blocks)
 * @param vocab       ids stay below it; the model's vocabulary size, or any size below it
 * @param context     the model's context length ({@code max_model_len})
 * @param speedup     trace time is divided by it
 */
public record Scaling(int blockTokens, int vocab, int context, double speedup) {

    public Scaling {
        if (blockTokens < 1 || blockTokens > TraceEntry.TRACE_BLOCK_TOKENS) {
            throw new IllegalArgumentException("--block-tokens must be in [1, 512], got " + blockTokens);
        }
        if (vocab <= Prompts.FIRST_ID + 1) throw new IllegalArgumentException("--vocab must be above " + (Prompts.FIRST_ID + 1) + ", got " + vocab);
        if (context < 2) throw new IllegalArgumentException("the model's context must be at least 2 tokens, got " + context);
        if (!(speedup > 0) || Double.isInfinite(speedup)) throw new IllegalArgumentException("--speedup must be > 0, got " + speedup);
    }

    /** A trace length in 512-token units, scaled to {@code blockTokens} units, rounded up, at least 1. */
    public int scale(int traceTokens) {
        return (int) Math.max(1, (traceTokens * (long) blockTokens + TraceEntry.TRACE_BLOCK_TOKENS - 1) / TraceEntry.TRACE_BLOCK_TOKENS);
    }

    /** The token ids hash id {@code id} stands for: the same for the same id, in every run. */
    public int[] block(long id) {
        SplittableRandom random = new SplittableRandom(id * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
        return random.ints(blockTokens, Prompts.FIRST_ID, vocab).toArray();
    }

    /** Every entry as a request, sent relative to the first entry's timestamp. */
    public List<ReplayRequest> requests(List<TraceEntry> trace) {
        long t0 = trace.stream().mapToLong(TraceEntry::timestampMs).min().orElse(0);
        List<ReplayRequest> out = new ArrayList<>(trace.size());
        for (int i = 0; i < trace.size(); i++) out.add(request(i, trace.get(i), t0));
        return out;
    }

    ReplayRequest request(int index, TraceEntry e, long t0Ms) {
        int wanted = scale(e.inputLength());
        int[] prompt = new int[wanted];
        int filled = 0;
        for (int b = 0; b < e.hashIds().length && filled < wanted; b++) {
            int[] block = block(e.hashIds()[b]);
            int n = Math.min(block.length, wanted - filled);
            System.arraycopy(block, 0, prompt, filled, n);
            filled += n;
        }
        if (filled < wanted) { // more input than hash ids cover: a tail of this request's own
            SplittableRandom own = new SplittableRandom(~(long) index * 0xBF58476D1CE4E5B9L);
            for (int k = filled; k < wanted; k++) prompt[k] = own.nextInt(Prompts.FIRST_ID, vocab);
        }
        int maxTokens = Math.min(scale(e.outputLength()), context - 1);
        int room = context - maxTokens;
        boolean clipped = maxTokens < scale(e.outputLength()) || prompt.length > room;
        if (prompt.length > room) prompt = java.util.Arrays.copyOf(prompt, room);
        long at = (long) ((e.timestampMs() - t0Ms) * 1_000_000d / speedup);
        return new ReplayRequest(index, at, prompt, maxTokens, clipped);
    }
}
