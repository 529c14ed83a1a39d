package io.tandem.engine.kernels;

/**
 * A weight matrix in the form {@link MatMul} multiplies by: the GGUF view itself ({@link WeightMatrix}, read row by
 * row) or its row panels ({@link PanelMatrix}, repacked at load for the vector kernels). {@link Kernels#pack} picks the
 * form a kernel implementation computes fastest with.
 */
public sealed interface LinearWeight permits WeightMatrix, PanelMatrix {

    /** The GGUF view of the matrix (name, type, shape). */
    WeightMatrix source();
}
