package io.tandem.launcher.options;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The README's flag tables are what {@link TandemOptions} generates. */
class ReadmeOptionTablesTest {
    private static final String REGENERATE = "./tandem mvn -q -o -pl launcher test -Dtest=ReadmeOptionTablesTest "
            + "-Dtandem.readme.write=true";

    @Test
    void theReadmeShowsTheTable() throws Exception {
        Path readme = repoRoot().resolve("README.md");
        String text = Files.readString(readme);
        String generated = OptionDocs.updateReadme(text);
        if (generated.equals(text)) return;
        if (Boolean.getBoolean("tandem.readme.write")) {
            Files.writeString(readme, generated);
            return;
        }
        fail("README.md's flag tables differ from io.tandem.launcher.options.TandemOptions. Regenerate them with:\n  "
                + REGENERATE + "\n(then review and commit README.md)");
    }

    @Test
    void eachProgramHasARowPerOption() {
        for (Program p : Program.values()) {
            String table = OptionDocs.table(p);
            assertEquals(TandemOptions.of(p).size() + 2, table.lines().takeWhile(l -> l.startsWith("|")).count(), table);
        }
        assertTrue(OptionDocs.table(Program.GATEWAY).contains("| `--[no-]kv-events` |"));
        assertTrue(OptionDocs.table(Program.WORKER).contains("| `--port N` | Port of the worker's HTTP server; 0 picks a free one. | 0 |"));
    }

    private static Path repoRoot() {
        String prop = System.getProperty("tandem.repo.root");
        Path dir = prop != null ? Path.of(prop) : Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("README.md"))) dir = dir.getParent();
        assertNotNull(dir, "no README.md above the working directory");
        return dir;
    }
}
