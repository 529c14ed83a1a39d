package io.tandem.protocol.progress;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressTest {
    private static final long S = 1_000_000_000L;

    @Test
    void theLineNamesWhatItCountsWithElapsedTimeAndEta() {
        assertEquals("bench pp512: 3/5 reps, 6.0 s, ETA 4.0 s", Progress.line("bench pp512", "reps", 3, 5, null, 6 * S, false));
        assertEquals("serving c=16: 120/256 requests, 2 failed, 1m00s, ETA 1m08s",
                Progress.line("serving c=16", "requests", 120, 256, "2 failed", 60 * S, false));
        assertEquals("transfer: 0/9 measurements, tcp 1 MiB READ, 0.3 s",
                Progress.line("transfer", "measurements", 0, 9, "tcp 1 MiB READ", S / 3, false), "no ETA before the first one");
        assertEquals("x: 5/5 runs, 2h01m", Progress.line("x", "runs", 5, 5, null, 7260 * S, false), "no ETA when done");
    }

    @Test
    void anUnknownTotalHasNoBarAndNoEta() {
        assertEquals("serving c=8: 17 requests, 4.5 s", Progress.line("serving c=8", "requests", 17, 0, null, 4500_000_000L, true));
    }

    @Test
    void theBarFillsWithTheShareDone() {
        assertEquals("[###############...............] replay: 20/40 done, 1.0 s, ETA 1.0 s",
                Progress.line("replay", "done", 20, 40, null, S, true));
        assertTrue(Progress.line("r", "", 0, 40, null, 0, true).startsWith("[" + ".".repeat(30) + "] r: 0/40, "));
        assertTrue(Progress.line("r", "", 99, 40, null, 0, true).startsWith("[" + "#".repeat(30) + "] "), "over the total: full");
    }

    /** A clock the test moves. */
    private static final class FakeClock {
        long now;
    }

    private static List<String> lines(ByteArrayOutputStream bytes) {
        return bytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void aLogGetsALineAtMostEveryIntervalAndAFinalOne() {
        FakeClock clock = new FakeClock();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, () -> clock.now, 10 * S,
                "replay", "done", 100);
        for (int i = 1; i <= 100; i++) { // 100 updates over 30 s: a line once 10 s have passed since the last
            clock.now += 300_000_000L;
            p.update(i);
        }
        p.finish();
        p.update(100); // after the end: silent
        p.finish();
        assertEquals(List.of("replay: 34/100 done, 10.2 s, ETA 19.8 s", "replay: 68/100 done, 20.4 s, ETA 9.6 s",
                "replay: 100/100 done, 30.0 s"), lines(bytes), "the second finish() prints nothing");
        assertFalse(bytes.toString(StandardCharsets.UTF_8).contains("\u001b"), "no terminal escapes in a log");
    }

    @Test
    void aShortRunInALogPrintsNothingUnlessFinished() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        FakeClock clock = new FakeClock();
        try (Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), false, () -> clock.now, 10 * S,
                "bench pp128", "reps", 5)) {
            for (int i = 1; i <= 5; i++) {
                clock.now += S;
                p.update(i);
            }
        }
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aTerminalGetsOneBarRedrawnInPlaceAndErasedOnClose() {
        FakeClock clock = new FakeClock();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), true, () -> clock.now, 10 * S, "b", "reps", 4);
        p.update(1);
        clock.now += Progress.REDRAW_NANOS / 2;
        p.update(2); // too soon after the last draw
        clock.now += Progress.REDRAW_NANOS;
        p.step("x");
        p.close();
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertEquals("\r[#######.......................] b: 1/4 reps, 0.0 s, ETA 0.0 s\u001b[K"
                + "\r[######################........] b: 3/4 reps, x, 0.2 s, ETA 0.1 s\u001b[K\r\u001b[K", s);
        assertFalse(s.contains("\n"), "the bar never scrolls");
    }

    @Test
    void clearErasesTheBarForALineOfTheCallersAndTheNextUpdateRedrawsIt() {
        FakeClock clock = new FakeClock();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = new Progress(new PrintStream(bytes, true, StandardCharsets.UTF_8), true, () -> clock.now, 10 * S, "u", "", 2);
        p.update(1);
        p.clear();
        p.clear(); // nothing drawn: nothing to erase
        p.update(2); // at once: a cleared bar is drawn again without waiting for the redraw interval
        p.finish();
        assertEquals("\r[###############...............] u: 1/2, 0.0 s, ETA 0.0 s\u001b[K\r\u001b[K"
                + "\r[##############################] u: 2/2, 0.0 s\u001b[K"
                + "\r[##############################] u: 2/2, 0.0 s\u001b[K\n", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theLogIntervalCanBeSetInSeconds() {
        assertEquals(Progress.LINE_EVERY_NANOS, Progress.lineEveryNanos(null));
        assertEquals(0, Progress.lineEveryNanos("0"));
        assertEquals(2_500_000_000L, Progress.lineEveryNanos(" 2.5 "));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Progress.lineEveryNanos("-1")).getMessage()
                .contains("tandem.progress.seconds"));
        assertThrows(IllegalArgumentException.class, () -> Progress.lineEveryNanos("ten"));
    }
}
