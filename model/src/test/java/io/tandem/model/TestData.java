package io.tandem.model;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository's test data (testdata/) from tests. */
public final class TestData {
    private TestData() {
    }

    public static Path repoRoot() {
        String prop = System.getProperty("tandem.repo.root");
        if (prop != null && Files.isDirectory(Path.of(prop, "testdata"))) return Path.of(prop);
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("testdata"))) return p;
        }
        throw new IllegalStateException("no testdata/ directory above " + System.getProperty("user.dir"));
    }

    /** testdata/models/{name}.gguf */
    public static Path model(String name) {
        return repoRoot().resolve("testdata/models/" + name + ".gguf");
    }

    /** testdata/golden/{file} */
    public static Path golden(String file) {
        return repoRoot().resolve("testdata/golden/" + file);
    }

    /** The bundled Q8_0 model in the source tree. */
    public static Path bundledModelSource() {
        return repoRoot().resolve("model/src/main/resources/io/tandem/model/bundled/tandem-fortune-5m-q8_0.gguf");
    }
}
