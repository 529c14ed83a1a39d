package io.tandem.transfer.agent;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StaleRegionFilesTest {

    @Test
    void filesOfDeadProcessesGoAndOthersStay(@TempDir Path dir) throws Exception {
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        Path stale = Files.createFile(dir.resolve("tandem-" + dead.pid() + "-prefill-1-0-L0K"));
        Path mine = Files.createFile(dir.resolve(StaleRegionFiles.name("decode-1", 0, "L0K")));
        Path other = Files.createFile(dir.resolve("something-else"));
        assertEquals(1, StaleRegionFiles.sweep(dir));
        assertFalse(Files.exists(stale), "the dead process's region file is deleted");
        assertTrue(Files.exists(mine), "a live process's region file stays");
        assertTrue(Files.exists(other), "files that are not region files stay");
    }
}
