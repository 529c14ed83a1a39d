package io.tandem.engine.forward;

import io.tandem.engine.kernels.WeightMatrix;

/**
 * One transformer block. Matrices stay mapped; norm weights and biases (small vectors) are decoded to the heap.
 * Biases ({@code bq, bk, bv}) and per-head norms ({@code qNorm, kNorm}) are null when the model has none.
 */
public record LayerWeights(float[] attnNorm, WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
                           float[] bq, float[] bk, float[] bv, float[] qNorm, float[] kNorm,
                           float[] ffnNorm, WeightMatrix gate, WeightMatrix up, WeightMatrix down) {
}
