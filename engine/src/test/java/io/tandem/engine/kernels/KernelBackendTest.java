package io.tandem.engine.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** What the engine reports about its kernels (the build runs with the Vector API). */
class KernelBackendTest {

    @Test
    void autoAndVectorReportTheVectorKernelsWithTheirLanes() {
        KernelBackend auto = Kernels.describe(KernelMode.AUTO);
        assertEquals(KernelBackend.VECTOR, auto.name());
        assertEquals(VectorKernels.lanes(), auto.lanes());
        assertEquals(auto, Kernels.describe(KernelMode.VECTOR));
        assertNull(auto.reason());
        assertEquals("vector, " + auto.lanes() + " float lanes (" + auto.lanes() * 32 + "-bit)", auto.describe());
        assertEquals("vector-" + auto.bits(), Kernels.create(KernelMode.AUTO).name(), "the name benchmarks print agrees");
    }

    @Test
    void scalarRunsOnlyWhenAskedForAndSaysSo() {
        KernelBackend scalar = Kernels.describe(KernelMode.SCALAR);
        assertEquals(new KernelBackend("scalar", 1, "asked for (kernels=scalar)", null), scalar);
        assertEquals("scalar: asked for (kernels=scalar)", scalar.describe());
        assertEquals("scalar", Kernels.create(KernelMode.SCALAR).name());
    }

    @Test
    void aFallbackNamesTheFix() {
        KernelBackend fallback = new KernelBackend("scalar", 1, "no module", "add it");
        assertEquals("scalar: no module. Fix: add it", fallback.describe());
        assertThrows(IllegalArgumentException.class, () -> new KernelBackend("gpu", 1, null, null));
    }
}
