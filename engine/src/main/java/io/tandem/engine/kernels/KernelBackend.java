package io.tandem.engine.kernels;

import java.util.Locale;

/**
 * Which CPU kernels run, for logs, metrics and health: {@code vector} (the Vector API, {@code lanes} floats per
 * vector) or {@code scalar} (plain loops, one lane).
 *
 * @param name   {@code vector} or {@code scalar}
 * @param lanes  float lanes per vector operation (1 for scalar)
 * @param reason why these kernels and not others, or null when nothing needs explaining (vector kernels chosen
 *               automatically)
 * @param fix    what an operator can do to get the vector kernels, or null when there is nothing to fix (they run,
 *               or scalar was asked for, or the CPU cannot run them)
 */
public record KernelBackend(String name, int lanes, String reason, String fix) {
    public static final String VECTOR = "vector";
    public static final String SCALAR = "scalar";

    public KernelBackend {
        if (!name.equals(VECTOR) && !name.equals(SCALAR)) throw new IllegalArgumentException("unknown kernel backend " + name);
        if (lanes < 1) throw new IllegalArgumentException("lanes must be >= 1, got " + lanes);
    }

    /** Vector width in bits. */
    public int bits() {
        return lanes * Float.SIZE;
    }

    public boolean isVector() {
        return name.equals(VECTOR);
    }

    /** One line for the startup log, e.g. {@code vector, 16 float lanes (512-bit)}. */
    public String describe() {
        String what = isVector() ? String.format(Locale.ROOT, "vector, %d float lanes (%d-bit)", lanes, bits()) : SCALAR;
        return what + (reason == null ? "" : ": " + reason) + (fix == null ? "" : ". Fix: " + fix);
    }
}
