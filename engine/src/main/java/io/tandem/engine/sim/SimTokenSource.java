package io.tandem.engine.sim;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntPredicate;

/** The ids the simulated engine may generate: the model's real vocabulary minus control and end tokens. */
final class SimTokenSource {
    private final int[] candidates;
    private final int[] eosIds;

    SimTokenSource(int vocabSize, IntPredicate sampleable, int[] eosIds) {
        this.eosIds = eosIds.clone();
        this.candidates = java.util.stream.IntStream.range(0, vocabSize)
                .filter(sampleable)
                .filter(id -> Arrays.stream(this.eosIds).noneMatch(e -> e == id))
                .toArray();
        if (candidates.length == 0) throw new IllegalArgumentException("the vocabulary has no sampleable token");
    }

    int draw(SplittableRandom rng) {
        return candidates[rng.nextInt(candidates.length)];
    }

    boolean hasEos() {
        return eosIds.length > 0;
    }

    int candidateCount() {
        return candidates.length;
    }
}
