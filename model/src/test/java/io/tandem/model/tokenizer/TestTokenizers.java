package io.tandem.model.tokenizer;

import io.tandem.model.TestData;
import io.tandem.model.gguf.GgufFile;
import io.tandem.model.gguf.GgufMetadata;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The four golden models' tokenizers, loaded once per test JVM. */
final class TestTokenizers {
    static final String SPM = "tiny-llama-spm-f32";
    static final String QWEN = "tiny-qwen3-q8_0";
    static final String FORTUNE_F32 = "tandem-fortune-5m-f32";
    static final String FORTUNE_Q8 = "tandem-fortune-5m-q8_0";
    static final List<String> MODELS = List.of(SPM, QWEN, FORTUNE_F32, FORTUNE_Q8);

    private static final Map<String, Tokenizer> CACHE = new ConcurrentHashMap<>();
    private static final HexFormat HEX = HexFormat.of();

    private TestTokenizers() {
    }

    static Path modelFile(String model) {
        // the Q8_0 fortune model is only in the source tree, as the bundled default model
        return model.equals(FORTUNE_Q8) ? TestData.bundledModelSource() : TestData.model(model);
    }

    static GgufMetadata metadata(String model) {
        try (GgufFile f = GgufFile.open(modelFile(model))) {
            return f.metadata();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Tokenizer get(String model) {
        return CACHE.computeIfAbsent(model, m -> Tokenizer.fromGguf(metadata(m)));
    }

    static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }
}
