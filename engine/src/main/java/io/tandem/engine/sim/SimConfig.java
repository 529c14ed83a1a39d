package io.tandem.engine.sim;

import java.util.Map;
import java.util.Set;

/**
 * Timing and capacity of the {@link SimulatedEngine}. One scheduler step costs
 * <pre>
 *   prefillNanosPerToken * (prompt tokens computed this step: prefill chunks, prefix-cache misses only)
 * + decodeStepNanos + perSequenceNanos * n + perContextTokenNanos * (sum of the n contexts)
 * </pre>
 * where the decode part applies when the step advances n &gt; 0 sequences by one token each. The
 * defaults model a small GPU-served model: 20 µs per prompt token, 6 ms per decode step plus
 * 0.1 ms per sequence in the batch and 20 ns per context token, 64 running sequences, 256 waiting.
 *
 * @param prefillNanosPerToken  cost of prefilling one prompt token
 * @param decodeStepNanos       fixed cost of a decode step (launch overhead, weight reads)
 * @param perSequenceNanos      extra cost per sequence in the decode batch
 * @param perContextTokenNanos  extra cost per token of context attended to (attention reads)
 * @param maxRunningSequences   sequences in the continuous batch (admitted, holding KV blocks)
 * @param maxWaitingRequests    requests held beyond the batch; a submit beyond {@code maxRunningSequences +
 *                              maxWaitingRequests} held requests is refused (overloaded)
 * @param eosProbability        chance per generated token that it is an end-of-generation token
 *                              (geometric output lengths, mean 1/p); ignored with ignore_eos
 */
public record SimConfig(
        long prefillNanosPerToken,
        long decodeStepNanos,
        long perSequenceNanos,
        long perContextTokenNanos,
        int maxRunningSequences,
        int maxWaitingRequests,
        double eosProbability) {

    public static final Set<String> KEYS = Set.of("prefillNanosPerToken", "decodeStepNanos", "perSequenceNanos",
            "perContextTokenNanos", "maxRunningSequences", "maxWaitingRequests", "eosProbability");

    public SimConfig {
        if (prefillNanosPerToken < 0 || decodeStepNanos < 0 || perSequenceNanos < 0 || perContextTokenNanos < 0) {
            throw new IllegalArgumentException("sim timing costs must be >= 0");
        }
        if (maxRunningSequences < 1) throw new IllegalArgumentException("maxRunningSequences must be >= 1");
        if (maxWaitingRequests < 0) throw new IllegalArgumentException("maxWaitingRequests must be >= 0");
        if (!(eosProbability >= 0 && eosProbability <= 1)) {
            throw new IllegalArgumentException("eosProbability must be in [0, 1], got " + eosProbability);
        }
    }

    public static SimConfig defaults() {
        return new SimConfig(20_000, 6_000_000, 100_000, 20, 64, 256, 0.02);
    }

    /** No modelled time at all: for tests that only care about tokens. */
    public static SimConfig instant() {
        return new SimConfig(0, 0, 0, 0, 64, 256, 0.02);
    }

    /**
     * The defaults overridden by {@code overrides}, whose keys are the component names
     * ({@link #KEYS}) and values numbers or numeric strings (from a JSON config file, say).
     */
    public static SimConfig fromMap(Map<String, ?> overrides) {
        SimConfig d = defaults();
        for (String k : overrides.keySet()) {
            if (!KEYS.contains(k)) throw new IllegalArgumentException("unknown sim engine option '" + k + "'; known: " + KEYS);
        }
        return new SimConfig(
                num(overrides, "prefillNanosPerToken", d.prefillNanosPerToken).longValue(),
                num(overrides, "decodeStepNanos", d.decodeStepNanos).longValue(),
                num(overrides, "perSequenceNanos", d.perSequenceNanos).longValue(),
                num(overrides, "perContextTokenNanos", d.perContextTokenNanos).longValue(),
                num(overrides, "maxRunningSequences", d.maxRunningSequences).intValue(),
                num(overrides, "maxWaitingRequests", d.maxWaitingRequests).intValue(),
                num(overrides, "eosProbability", d.eosProbability).doubleValue());
    }

    private static Number num(Map<String, ?> m, String key, Number def) {
        Object v = m.get(key);
        if (v == null) return def;
        if (v instanceof Number n) return n;
        try {
            return Double.parseDouble(v.toString());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("sim engine option '" + key + "' must be a number, got '" + v + "'");
        }
    }

    /** Duration of one step; see the class comment. */
    public long stepNanos(int prefillTokens, int decodingSequences, long decodingContextTokens) {
        long t = prefillNanosPerToken * prefillTokens;
        if (decodingSequences > 0) {
            t += decodeStepNanos + perSequenceNanos * decodingSequences + perContextTokenNanos * decodingContextTokens;
        }
        return t;
    }

    public SimConfig withEosProbability(double p) {
        return new SimConfig(prefillNanosPerToken, decodeStepNanos, perSequenceNanos, perContextTokenNanos,
                maxRunningSequences, maxWaitingRequests, p);
    }

    public SimConfig withCapacity(int maxRunning, int maxWaiting) {
        return new SimConfig(prefillNanosPerToken, decodeStepNanos, perSequenceNanos, perContextTokenNanos,
                maxRunning, maxWaiting, eosProbability);
    }

    public SimConfig withTiming(long prefillPerToken, long decodeStep, long perSequence, long perContextToken) {
        return new SimConfig(prefillPerToken, decodeStep, perSequence, perContextToken,
                maxRunningSequences, maxWaitingRequests, eosProbability);
    }
}
