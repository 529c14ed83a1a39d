package io.tandem.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BundledModelTest {

    @Test
    void pathGivesTheExtractedBundledModel() throws Exception {
        Path p = BundledModel.path();
        assertEquals("tandem-fortune-5m-q8_0.gguf", p.getFileName().toString());
        assertArrayEquals(Files.readAllBytes(TestData.bundledModelSource()), Files.readAllBytes(p));
        assertSame(p, BundledModel.path());
        assertEquals("tandem-fortune-5m", BundledModel.NAME);
    }

    @Test
    void extractionIsReusedAndRepairedWhenIncomplete(@TempDir Path dir) throws Exception {
        Path first = BundledModel.extract(dir);
        FileTime written = Files.getLastModifiedTime(first);
        Files.setLastModifiedTime(first, FileTime.fromMillis(written.toMillis() - 60_000));
        FileTime aged = Files.getLastModifiedTime(first);
        assertEquals(first, BundledModel.extract(dir));
        assertEquals(aged, Files.getLastModifiedTime(first), "a complete file is reused, not rewritten");

        Files.write(first, new byte[] {1, 2, 3}); // e.g. a crash mid-copy by an older version
        assertEquals(first, BundledModel.extract(dir));
        assertNotEquals(3, Files.size(first));
        assertArrayEquals(Files.readAllBytes(TestData.bundledModelSource()), Files.readAllBytes(first));
        try (var files = Files.list(first.getParent())) {
            assertTrue(files.allMatch(f -> f.equals(first)), "no temporary files are left behind");
        }
    }
}
