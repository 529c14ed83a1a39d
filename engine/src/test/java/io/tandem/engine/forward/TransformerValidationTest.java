package io.tandem.engine.forward;

import io.tandem.engine.kv.KvArenas;
import io.tandem.engine.kv.KvDataType;
import io.tandem.engine.kv.KvLayout;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad batches are refused before anything is written, with a message that says what is wrong. */
class TransformerValidationTest {
    private final Transformer t = TestModels.get(TestModels.FORTUNE_F32);

    @Test
    void refusesBadBatchesWithoutTouchingTheCache() {
        try (KvArenas cache = TestModels.cache(t, 2, 32)) {
            int[] a = TestModels.blockTable(0, 2, 32, 16), b = TestModels.blockTable(1, 2, 32, 16);
            float[] before = t.forward(Batch.of(SequenceSpan.of(new int[] {1, 400, 500}, 0, a)), cache).lastLogits(0);

            expect("token id 4096", () -> t.forward(Batch.of(SequenceSpan.of(new int[] {7, 4096}, 3, a)), cache));
            expect("token id -1", () -> t.forward(Batch.of(SequenceSpan.of(new int[] {-1}, 3, a)), cache));
            expect("cannot hold", () -> t.forward(Batch.of(SequenceSpan.of(new int[40], 0, b)), cache));
            expect("written by two spans", () -> t.forward(Batch.of(SequenceSpan.of(new int[] {9}, 3, a),
                    SequenceSpan.of(new int[] {9}, 0, new int[] {a[0]})), cache));
            try (KvArenas other = KvArenas.allocate(new KvLayout(2, 4, 16, 4, 32, KvDataType.F32))) {
                expect("does not fit", () -> t.forward(Batch.of(SequenceSpan.of(new int[] {1}, 0, a)), other));
            }

            // the refused steps left sequence a as it was: recomputing its last position gives the same logits
            float[] again = t.forward(Batch.of(SequenceSpan.of(new int[] {500}, 2, a)), cache).lastLogits(0);
            assertArrayEquals(before, again);
        }
    }

    private static void expect(String fragment, Runnable r) {
        var e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
