package io.tandem.engine.kernels;

/**
 * A weight matrix in the form {@link MatMul} multiplies by: the GGUF view itself ({@link WeightMatrix}, read row by
 * row), its row panels ({@link PanelMatrix}, repacked at load for the vector kernels), or a Q4_0 matrix's panels for the
 * 8-bit-activation kernels ({@link Q4PanelMatrix}). {@link MatMul#pack} picks the form that computes fastest.
 */
public sealed interface LinearWeight permits WeightMatrix, PanelMatrix, Q4PanelMatrix {

    /** The GGUF view of the matrix (name, type, shape). */
    WeightMatrix source();
}
