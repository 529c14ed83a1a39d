package io.tandem.engine.kernels;

import io.tandem.model.gguf.GgufFile;
import io.tandem.model.gguf.GgufTensorType;
import io.tandem.model.gguf.GgufWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Writes tensors to a real GGUF file with the project's writer and maps them back, as the engine does. */
public final class TestTensors {
    private TestTensors() {
    }

    public static float[] random(Random rnd, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian() * scale;
        return v;
    }

    /** A GGUF file (deleted on exit) holding one tensor {@code "w"} of {@code rows x cols}, encoded as {@code type}. */
    public static WeightMatrix matrix(GgufTensorType type, int rows, int cols, float[] values) {
        return matrix(type, new long[] {cols, rows}, Quantize.encode(type, values));
    }

    static WeightMatrix matrix(GgufTensorType type, long[] dims, byte[] data) {
        try {
            Path p = Files.createTempFile("tandem-kernels", ".gguf");
            p.toFile().deleteOnExit();
            new GgufWriter().putString("general.architecture", "llama").addTensor("w", type, dims, data).write(p);
            GgufFile f = GgufFile.open(p); // stays open (mapped) for the JVM's lifetime, like a loaded model
            return WeightMatrix.of(f, "w");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
