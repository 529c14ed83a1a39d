package io.tandem.loadtests.replay;

import java.nio.file.Files;
import java.nio.file.Path;

/** The checkout's testdata/, found above the working directory. */
final class Repo {
    private Repo() {}

    static Path testdata(String relative) {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("testdata"))) dir = dir.getParent();
        if (dir == null) throw new IllegalStateException("no testdata/ above " + System.getProperty("user.dir"));
        return dir.resolve("testdata").resolve(relative);
    }
}
