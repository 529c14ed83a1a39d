package io.tandem.loadtests.replay;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress on stderr: on a terminal, one bar redrawn in place; otherwise (a log, CI) a line every {@code
 * lineEveryNanos}. {@link #line} is pure, for the tests.
 */
final class Progress {
    private final PrintStream out;
    private final boolean terminal;
    private final int total;
    private final long lineEveryNanos;
    private long lastLine = Long.MIN_VALUE;

    Progress(PrintStream out, boolean terminal, int total, long lineEveryNanos) {
        this.out = out;
        this.terminal = terminal;
        this.total = total;
        this.lineEveryNanos = lineEveryNanos;
    }

    /** True when stdout/stdin is an interactive terminal (what {@link java.io.Console#isTerminal()} can tell). */
    static boolean onTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    /** Called often (every few hundred ms); prints when it should. */
    void update(int sent, int done, int failed, long elapsedNanos) {
        if (terminal) {
            out.print("\r" + line(sent, done, failed, elapsedNanos, total, true) + "\u001b[K");
            out.flush();
        } else if (lastLine == Long.MIN_VALUE || elapsedNanos - lastLine >= lineEveryNanos) {
            lastLine = elapsedNanos;
            out.println(line(sent, done, failed, elapsedNanos, total, false));
        }
    }

    void finish(int sent, int done, int failed, long elapsedNanos) {
        if (terminal) out.print("\r" + line(sent, done, failed, elapsedNanos, total, true) + "\u001b[K\n");
        else out.println(line(sent, done, failed, elapsedNanos, total, false));
        out.flush();
    }

    static String line(int sent, int done, int failed, long elapsedNanos, int total, boolean bar) {
        String counts = String.format(Locale.ROOT, "replay: %d/%d done, %d sent, %d failed, %.1f s", done, total, sent, failed,
                elapsedNanos / 1e9);
        if (!bar) return counts;
        int width = 30, full = total == 0 ? width : (int) ((long) done * width / total);
        return "[" + "#".repeat(full) + ".".repeat(width - full) + "] " + counts;
    }
}
