package io.tandem.gateway.soak;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * What each soak request asks for and how its client behaves: a prompt (most start with one of a few shared
 * prefixes, so the workers' prefix caches and the gateway's KV routing have something to find), a random number of
 * tokens (always generated in full: {@code ignore_eos}), and an ending — read to the end, disconnect after some
 * tokens, or cancel after a delay (usually while the request still waits in a queue).
 */
public final class LoadPlan {
    private static final String[] WORDS = ("the a of and to in is that it for on with as was at by this from or an be "
            + "are have not but had his they you were her she which their all one there we can will would what about "
            + "when time people out up into year your some could them see other than then now look only come over think "
            + "also back after use two how our work first well way even new want because any these give day most us "
            + "river stone light garden window market winter letter morning silver engine harbour mountain").split(" ");

    /**
     * The request mix.
     *
     * @param minTokens          fewest tokens a request asks for
     * @param maxTokens          most tokens a request asks for (at most half the model's context, see {@link LoadPlan})
     * @param disconnectFraction share of requests whose client disconnects mid-stream
     * @param cancelFraction     share of requests cancelled after a random delay up to {@code maxCancelMillis}
     * @param maxCancelMillis    latest a cancel comes
     * @param sharedPrefixes     how many distinct shared prompt prefixes there are
     * @param sharedFraction     share of prompts that start with a shared prefix (the rest are all random)
     */
    public record Mix(int minTokens, int maxTokens, double disconnectFraction, double cancelFraction,
                      long maxCancelMillis, int sharedPrefixes, double sharedFraction) {
        public Mix {
            if (minTokens < 2 || maxTokens < minTokens) {
                throw new IllegalArgumentException("token range must satisfy 2 <= min <= max, got " + minTokens + ".." + maxTokens);
            }
            if (disconnectFraction < 0 || cancelFraction < 0 || disconnectFraction + cancelFraction > 1) {
                throw new IllegalArgumentException("disconnect and cancel fractions must be >= 0 and add up to at most 1");
            }
            if (maxCancelMillis < 1) throw new IllegalArgumentException("maxCancelMillis must be >= 1");
            if (sharedPrefixes < 1) throw new IllegalArgumentException("sharedPrefixes must be >= 1");
            if (sharedFraction < 0 || sharedFraction > 1) throw new IllegalArgumentException("sharedFraction must be in [0, 1]");
        }

        /** 16 to 256 tokens, 5 % disconnects, 5 % cancels within 3 s, 12 shared prefixes under 80 % of the prompts. */
        public static Mix defaults() {
            return new Mix(16, 256, 0.05, 0.05, 3_000, 12, 0.8);
        }
    }

    /** How the client of one request ends it. */
    public sealed interface Ending {
        /** Reads the stream to its end. */
        record ReadAll() implements Ending {}

        /** Closes the connection after this many content chunks (fewer than the request's tokens). */
        record DisconnectAfter(int chunks) implements Ending {}

        /** Resets the request this long after sending it, whatever it has received by then. */
        record CancelAfter(long millis) implements Ending {}
    }

    /** One request: its prompt, its {@code max_tokens} and how its client ends it. */
    public record Planned(String prompt, int maxTokens, Ending ending) {}

    /** Most tokens one word of {@link #WORDS} may take in any tokenizer (the bundled model's take about one). */
    static final int TOKENS_PER_WORD = 2;

    private final Mix mix;
    private final int minTokens;
    private final int maxTokens;
    private final int promptWords;
    private final List<String> prefixes;

    /**
     * A plan whose requests fit a model of {@code contextLength} tokens: at most half of it is asked to be
     * generated, and prompts stay within the rest at {@link #TOKENS_PER_WORD} tokens per word. The shared prefixes
     * are a function of {@code seed}, so two plans with the same seed share them.
     */
    public LoadPlan(Mix mix, long seed, int contextLength) {
        if (contextLength < 64) throw new IllegalArgumentException("the soak needs a model context of at least 64 tokens, got " + contextLength);
        this.mix = mix;
        this.maxTokens = Math.min(mix.maxTokens(), contextLength / 2);
        this.minTokens = Math.min(mix.minTokens(), maxTokens);
        // what is left of the context, in words, less the labels ("Document 11:", "Question:")
        this.promptWords = Math.min(240, (contextLength - maxTokens) / TOKENS_PER_WORD - 8);
        SplittableRandom random = new SplittableRandom(seed);
        List<String> p = new ArrayList<>();
        for (int i = 0; i < mix.sharedPrefixes(); i++) {
            p.add("Document " + i + ": " + words(random, between(random, promptWords / 2, promptWords * 3 / 4)) + ".");
        }
        this.prefixes = List.copyOf(p);
    }

    public Mix mix() {
        return mix;
    }

    /** The shared prefixes (for tests). */
    public List<String> prefixes() {
        return prefixes;
    }

    /** The most tokens a request asks for (the mix's, or half the model's context when that is less). */
    public int maxTokens() {
        return maxTokens;
    }

    /** The most words a prompt has. */
    public int promptWords() {
        return promptWords;
    }

    /** The next request, drawn from {@code random}. */
    public Planned next(RandomGenerator random) {
        int questionWords = between(random, 3, Math.max(3, promptWords / 4));
        String question = words(random, questionWords) + "?";
        String prompt = random.nextDouble() < mix.sharedFraction()
                ? prefixes.get(random.nextInt(prefixes.size())) + "\nQuestion: " + question
                : words(random, between(random, 1, promptWords - questionWords)) + ". " + question;
        int tokens = between(random, minTokens, maxTokens);
        double roll = random.nextDouble();
        Ending ending;
        if (roll < mix.disconnectFraction()) ending = new Ending.DisconnectAfter(between(random, 1, tokens - 1));
        else if (roll < mix.disconnectFraction() + mix.cancelFraction()) ending = new Ending.CancelAfter(1 + random.nextLong(mix.maxCancelMillis()));
        else ending = new Ending.ReadAll();
        return new Planned(prompt, tokens, ending);
    }

    /** Uniform in [lo, hi] (lo when hi < lo). */
    private static int between(RandomGenerator random, int lo, int hi) {
        return hi <= lo ? lo : lo + random.nextInt(hi - lo + 1);
    }

    private static String words(RandomGenerator random, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (i > 0) sb.append(' ');
            sb.append(WORDS[random.nextInt(WORDS.length)]);
        }
        return sb.toString();
    }
}
