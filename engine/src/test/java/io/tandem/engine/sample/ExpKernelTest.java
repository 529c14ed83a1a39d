package io.tandem.engine.sample;

import io.tandem.protocol.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ExpKernelTest {

    @Test
    void accurateOverTheWholeRange() {
        double worst = 0;
        for (int i = 0; i <= 1_000_000; i++) {
            float z = -87f * i / 1_000_000f;
            double ref = Math.exp(z);
            worst = Math.max(worst, Math.abs(ExpKernel.exp(z) - ref) / ref);
        }
        assertTrue(worst < 2e-7, "worst relative error " + worst);
        assertEquals(1f, ExpKernel.exp(0f));
        assertEquals(0f, ExpKernel.exp(-87.5f));
        assertEquals(0f, ExpKernel.exp(Float.NEGATIVE_INFINITY));
        assertEquals(0f, ExpKernel.exp(Float.NaN));
    }

    @Test
    void vectorKernelIsUsedWhenAvailableAndAgreesBitForBit() {
        boolean vectorModule = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        ExpKernel best = ExpKernel.best();
        assertEquals(vectorModule, best.getClass().getSimpleName().equals("VectorExp"), best.getClass().getName());
        Random rnd = new Random(17);
        for (int n : new int[] {1, 15, 16, 17, 1000, 32_003}) {
            float[] x = new float[n + 3];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 30);
            x[rnd.nextInt(x.length)] = Float.NaN;
            x[rnd.nextInt(x.length)] = Float.NEGATIVE_INFINITY;
            float max = 0;
            for (float v : x) if (v > max) max = v;
            float[] a = new float[n], b = new float[n];
            best.weights(x, 3, n, max, 1.7f, a);
            new ExpKernel.Scalar().weights(x, 3, n, max, 1.7f, b);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(b[i]), Float.floatToRawIntBits(a[i]), "n " + n + " at " + i + ": " + x[3 + i]);
            }
        }
    }

    @Test
    void samplingDoesNotDependOnTheKernel() {
        Random rnd = new Random(2);
        float[] x = SamplerTest.randomRow(rnd, 5000);
        Sampler fast = new Sampler(5000), scalar = new Sampler(5000, new ExpKernel.Scalar());
        for (int seed = 0; seed < 300; seed++) {
            var p = new SamplingParams(10, 0.9f, seed % 2 == 0 ? 0.9f : 1f, seed % 3 == 0 ? 50 : 0, seed % 5 == 0 ? 0.05f : 0f,
                    (long) seed, 0f, 0f, null, false, 2);
            assertEquals(scalar.sample(x, new SequenceSampling(p)), fast.sample(x, new SequenceSampling(p)));
        }
    }
}
