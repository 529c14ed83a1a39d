package io.tandem.engine.forward;

import io.tandem.engine.kernels.ComputePool;
import io.tandem.engine.kernels.KernelMode;
import io.tandem.engine.kernels.Kernels;
import io.tandem.engine.kernels.MatMul;
import io.tandem.engine.kv.KvArenas;
import io.tandem.engine.kv.KvDataType;
import io.tandem.engine.kv.KvLayout;
import io.tandem.model.ModelConfig;
import io.tandem.model.gguf.GgufFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The test models, loaded once per JVM and kernel mode (weights are mapped, so this is cheap). */
public final class TestModels {
    public static final String LLAMA = "tiny-llama-spm-f32";
    public static final String QWEN3 = "tiny-qwen3-q8_0";
    public static final String FORTUNE_F32 = "tandem-fortune-5m-f32";
    public static final String FORTUNE_Q8 = "tandem-fortune-5m-q8_0";

    private static final Map<String, Transformer> LOADED = new ConcurrentHashMap<>();

    private TestModels() {
    }

    public static Path repoRoot() {
        String prop = System.getProperty("tandem.repo.root");
        if (prop != null && Files.isDirectory(Path.of(prop, "testdata"))) return Path.of(prop);
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("testdata"))) return p;
        }
        throw new IllegalStateException("no testdata/ directory above " + System.getProperty("user.dir"));
    }

    public static Path modelPath(String model) {
        if (model.equals(FORTUNE_Q8)) {
            return repoRoot().resolve("model/src/main/resources/io/tandem/model/bundled/" + model + ".gguf");
        }
        return repoRoot().resolve("testdata/models/" + model + ".gguf");
    }

    public static Path golden(String file) {
        return repoRoot().resolve("testdata/golden/" + file);
    }

    /** The model with vector kernels (when available) on 2 threads. */
    public static Transformer get(String model) {
        return get(model, KernelMode.AUTO, 2);
    }

    public static Transformer get(String model, KernelMode mode, int threads) {
        return LOADED.computeIfAbsent(model + "/" + mode + "/" + threads, k -> load(modelPath(model), mode, threads));
    }

    public static Transformer load(Path path, KernelMode mode, int threads) {
        try {
            GgufFile file = GgufFile.open(path);
            ModelConfig config = ModelConfig.from(file.metadata());
            return new Transformer(ModelWeights.load(file, config),
                    new MatMul(Kernels.create(mode), new ComputePool(threads)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh F32 cache with room for {@code tokens} positions in each of {@code sequences} sequences. */
    public static KvArenas cache(Transformer t, int sequences, int tokens) {
        return cache(t, sequences, tokens, KvDataType.F32, 16);
    }

    public static KvArenas cache(Transformer t, int sequences, int tokens, KvDataType type, int blockSize) {
        int perSeq = (tokens + blockSize - 1) / blockSize;
        return KvArenas.allocate(KvLayout.forModel(t.config(), blockSize, type, Math.max(1, sequences * perSeq)));
    }

    /**
     * Block table for sequence {@code seq} of a cache made by {@link #cache}: its blocks are interleaved with the
     * other sequences' (seq, seq + sequences, ...) and reversed, so tests do not pass by accident with contiguous ids.
     */
    public static int[] blockTable(int seq, int sequences, int tokens, int blockSize) {
        int perSeq = (tokens + blockSize - 1) / blockSize;
        int[] table = new int[perSeq];
        for (int i = 0; i < perSeq; i++) table[i] = (perSeq - 1 - i) * sequences + seq;
        return table;
    }

    public static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
