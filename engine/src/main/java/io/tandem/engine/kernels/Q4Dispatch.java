package io.tandem.engine.kernels;

import io.tandem.model.gguf.GgufTensorType;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Routes {@link MatMul} calls whose weights are all Q4_0 to the panel kernels ({@link Q4MatMul}), packing each
 * weight on first use (a one-off copy of the matrix, kept for the JVM's lifetime with the weight). The hook
 * {@link MatMul} calls until the model's weights hold their {@link Q4Panels} themselves. Opt-in for now, with the
 * vector kernels and the system property {@value #PROPERTY}{@code =true}: the 8-bit activations move Q4_0 results
 * by more than the double-precision reference tests of the float path allow (see Q4KernelsTest for the bound).
 */
public final class Q4Dispatch {
    /** {@code -Dtandem.kernels.q4panels=true} sends Q4_0 to the panel kernels. */
    public static final String PROPERTY = "tandem.kernels.q4panels";

    private final Q4MatMul q4;
    private final Map<WeightMatrix, Q4Panels> packed = new ConcurrentHashMap<>();

    private Q4Dispatch(Q4MatMul q4) {
        this.q4 = q4;
    }

    /** The dispatch for these kernels, or null when Q4_0 stays on the old path (scalar kernels, or switched off). */
    static Q4Dispatch create(Kernels kernels, ComputePool pool) {
        if (!kernels.name().startsWith("vector") || !Boolean.parseBoolean(System.getProperty(PROPERTY, "false"))) return null;
        return new Q4Dispatch(new Q4MatMul(Q4Kernels.create(kernels), pool));
    }

    /** Whether every projection is Q4_0 (then {@link #multiply} takes the call). */
    static boolean handles(MatMul.Projection[] projections) {
        for (MatMul.Projection p : projections) if (p.w().type() != GgufTensorType.Q4_0) return false;
        return true;
    }

    void multiply(float[] x, int n, MatMul.Projection[] projections) {
        Q4MatMul.Projection[] ps = new Q4MatMul.Projection[projections.length];
        for (int i = 0; i < ps.length; i++) {
            MatMul.Projection p = projections[i];
            ps[i] = new Q4MatMul.Projection(packed.computeIfAbsent(p.w(), q4::pack), p.out(), p.accumulate());
        }
        q4.multiply(x, n, ps);
    }
}
