package io.tandem.engine.sample;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link ExpKernel} with the Vector API: the same operations as {@link ExpKernel#exp}, lane-wise,
 * in the same order (no fused multiply-add), hence the same bits. Loaded by name only, so the
 * engine runs without the incubator module.
 */
final class VectorExp implements ExpKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    @Override
    public void weights(float[] x, int off, int n, float max, float scale, float[] out) {
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            FloatVector z = FloatVector.fromArray(S, x, off + i).sub(max).mul(scale);
            VectorMask<Float> live = z.compare(VectorOperators.GE, MIN_ARG); // false for NaN too
            z = z.max(MIN_ARG);
            IntVector k = (IntVector) z.mul(LOG2E).sub(0.5f).convert(VectorOperators.F2I, 0);
            FloatVector kf = (FloatVector) k.convert(VectorOperators.I2F, 0);
            FloatVector r = z.sub(kf.mul(LN2_HI)).sub(kf.mul(LN2_LO));
            FloatVector p = r.mul(C6).add(C5);
            p = p.mul(r).add(C4);
            p = p.mul(r).add(C3);
            p = p.mul(r).add(C2);
            p = p.mul(r).add(C1);
            FloatVector e = p.mul(r).mul(r).add(r).add(1f);
            FloatVector pow2 = k.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector.zero(S).blend(e.mul(pow2), live).intoArray(out, i);
        }
        for (; i < n; i++) out[i] = ExpKernel.exp((x[off + i] - max) * scale);
    }
}
