package io.tandem.protocol.progress;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Progress of a long run, for the person watching it: "LABEL: DONE/TOTAL NOUN, DETAIL, elapsed, ETA". On an interactive
 * terminal one bar is redrawn in place (at most every {@link #REDRAW_NANOS}); otherwise (a log, CI) a plain line at most
 * every {@code lineEveryNanos}, so logs stay small. It writes to stderr in the benches and {@code replay}, so their
 * stdout (tables, JSON) stays clean for scripts. A total of 0 or less means unknown: no bar and no ETA. Thread-safe;
 * {@link #line} is pure, for the tests.
 */
public final class Progress implements AutoCloseable {
    /** A line in a log at most this often by default: a 10-minute run leaves 60 lines. */
    public static final long LINE_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
    /** The system property that sets the seconds between two lines in a log (0: a line per update), e.g. for CI or tests. */
    public static final String EVERY_PROPERTY = "tandem.progress.seconds";
    /** A terminal's bar is redrawn at most this often, however often {@link #update} is called. */
    static final long REDRAW_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final int BAR_WIDTH = 30;

    private final PrintStream out;
    private final boolean terminal;
    private final LongSupplier clock;
    private final long lineEveryNanos;
    private final String label, noun;
    private final long total, start;
    private long last;
    private boolean shown, ended;
    private long done;
    private String detail;

    /**
     * @param clock          {@link System#nanoTime} outside tests
     * @param lineEveryNanos the least time between two lines when not on a terminal
     */
    public Progress(PrintStream out, boolean terminal, LongSupplier clock, long lineEveryNanos, String label, String noun, long total) {
        this.out = out;
        this.terminal = terminal;
        this.clock = clock;
        this.lineEveryNanos = lineEveryNanos;
        this.label = label;
        this.noun = noun;
        this.total = total;
        this.start = clock.getAsLong();
        this.last = start;
    }

    /**
     * Progress on stderr, a bar if it is a terminal, otherwise a line every {@link #LINE_EVERY_NANOS} or the seconds in
     * {@value #EVERY_PROPERTY}.
     */
    public static Progress onStderr(String label, String noun, long total) {
        return new Progress(System.err, onTerminal(), System::nanoTime, lineEveryNanos(System.getProperty(EVERY_PROPERTY)),
                label, noun, total);
    }

    static long lineEveryNanos(String seconds) {
        if (seconds == null || seconds.isBlank()) return LINE_EVERY_NANOS;
        try {
            double s = Double.parseDouble(seconds.trim());
            if (s >= 0 && Double.isFinite(s)) return (long) (s * 1e9);
        } catch (NumberFormatException e) {
            // the error below
        }
        throw new IllegalArgumentException("-D" + EVERY_PROPERTY + " must be a number of seconds >= 0, got '" + seconds + "'");
    }

    /** True when the JVM runs on an interactive terminal (what {@link java.io.Console#isTerminal()} can tell). */
    public static boolean onTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    public void update(long done) {
        update(done, null);
    }

    /** {@code done} so far and an optional detail ("12 sent, 1 failed"); prints only when it is due. */
    public synchronized void update(long done, String detail) {
        this.done = done;
        this.detail = detail;
        if (ended) return;
        long now = clock.getAsLong();
        if (terminal) {
            if (shown && now - last < REDRAW_NANOS) return;
            out.print("\r" + line(now) + "\u001b[K");
            out.flush();
        } else {
            if (now - last < lineEveryNanos) return; // a run shorter than one interval prints nothing until finish()
            out.println(line(now));
        }
        last = now;
        shown = true;
    }

    /** One more done: {@link #update} with {@code done + 1}. */
    public synchronized void step(String detail) {
        update(done + 1, detail);
    }

    /**
     * Erases a terminal's bar so the caller can print a line of its own on the same stream or on stdout; the next
     * {@link #update} draws it again. Nothing in a log.
     */
    public synchronized void clear() {
        if (terminal && shown && !ended) {
            out.print("\r\u001b[K");
            out.flush();
            shown = false;
        }
    }

    /** The final state, left on screen (terminal) or as a last line (log). */
    public synchronized void finish() {
        if (ended) return;
        ended = true;
        long now = clock.getAsLong();
        if (terminal) out.print("\r" + line(now) + "\u001b[K\n");
        else out.println(line(now));
        out.flush();
    }

    /** Ends without a final line: a terminal's bar is erased (the caller prints its own result), a log gets nothing. */
    @Override
    public synchronized void close() {
        clear();
        ended = true;
    }

    private String line(long now) {
        return line(label, noun, done, total, detail, now - start, terminal);
    }

    /**
     * "[#####.....] LABEL: DONE/TOTAL NOUN, DETAIL, ELAPSED, ETA REMAINING"; without a known total, "LABEL: DONE NOUN,
     * DETAIL, ELAPSED" and no bar. The ETA assumes the rest goes at the pace so far.
     */
    public static String line(String label, String noun, long done, long total, String detail, long elapsedNanos, boolean bar) {
        StringBuilder s = new StringBuilder();
        boolean known = total > 0;
        if (bar && known) {
            int full = (int) (Math.clamp(done, 0, total) * BAR_WIDTH / total);
            s.append('[').append("#".repeat(full)).append(".".repeat(BAR_WIDTH - full)).append("] ");
        }
        s.append(label).append(": ").append(done);
        if (known) s.append('/').append(total);
        if (noun != null && !noun.isEmpty()) s.append(' ').append(noun);
        if (detail != null && !detail.isEmpty()) s.append(", ").append(detail);
        s.append(", ").append(duration(elapsedNanos));
        if (known && done > 0 && done < total) {
            s.append(", ETA ").append(duration((long) ((double) elapsedNanos * (total - done) / done)));
        }
        return s.toString();
    }

    /** "4.2 s" under a minute, "3m05s" under an hour, "2h07m" beyond. */
    static String duration(long nanos) {
        double seconds = Math.max(0, nanos) / 1e9;
        if (seconds < 60) return String.format(Locale.ROOT, "%.1f s", seconds);
        long s = (long) seconds;
        if (s < 3600) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
    }
}
