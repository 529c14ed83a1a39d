package io.tandem.engine.kernels;

/**
 * A Q4_0 weight in the form {@link Q4MatMul} multiplies by: its GGUF view and its {@link Q4Panels} (repacked once, at
 * model load).
 */
public record Q4PanelMatrix(WeightMatrix source, Q4Panels panels) implements LinearWeight {
}
