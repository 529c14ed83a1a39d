package io.tandem.engine.kernels;

/** Which kernel implementation to use. */
public enum KernelMode {
    /** The Vector API kernels when {@code jdk.incubator.vector} is present and the CPU has wide enough SIMD, else scalar. */
    AUTO,
    /** The Vector API kernels; fails when they are unavailable. */
    VECTOR,
    /** Plain Java loops (the fallback, and a reference for tests); runs only when asked for ({@code kernels=scalar}). */
    SCALAR
}
