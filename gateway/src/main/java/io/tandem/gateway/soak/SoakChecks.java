package io.tandem.gateway.soak;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The soak's pass/fail verdict: nothing failed that the client did not cause, and nothing leaked. */
public final class SoakChecks {
    /**
     * How many more threads a restarted worker's new JVM may have than the old one had: on-demand pools (Hazelcast's
     * cached pool above all) settle at a slightly different size in each JVM, so only a process that lived through
     * the whole run is held to "no growth at all". A leak per request or per stream is thousands over a soak.
     */
    static final int NEW_JVM_THREAD_SLACK = 8;

    private SoakChecks() {
    }

    /** One check: its name, whether it held, and the numbers behind it. */
    public record Check(String name, boolean passed, String detail) {}

    /**
     * @param heapTolerance how far the end heap after GC may be from the start one, as a fraction (0.10 = ±10 %)
     * @param threadSlack   threads a process may end with beyond its start count (pools that start threads on
     *                      demand); 0 = strictly no growth
     */
    public static List<Check> of(SoakResult r, double heapTolerance, int threadSlack) {
        List<Check> checks = new ArrayList<>();
        Tally.Counts c = r.counts();
        checks.add(new Check("requests completed", c.completed() > 0, c.completed() + " completed"));
        checks.add(new Check("no failures (deliberate disconnects and cancels excluded)", c.failed() == 0,
                c.failed() + " failed of " + c.requests() + (c.failuresByKind().isEmpty() ? "" : " " + c.failuresByKind())));
        checks.add(new Check("every stream ended after the load stopped", r.unfinished() == 0, r.unfinished() + " still open"));
        for (SoakResult.Restart s : r.restarts()) {
            checks.add(new Check(s.worker() + " drained and exited 0 on SIGTERM (" + s.phase() + ")", s.exitCode() == 0,
                    String.format(Locale.ROOT, "exit %d after %.1f s", s.exitCode(), s.stopSeconds())));
            checks.add(new Check(s.worker() + " served again after its restart (" + s.phase() + ")", !Double.isNaN(s.rejoinSeconds()),
                    Double.isNaN(s.rejoinSeconds()) ? "never ready" : String.format(Locale.ROOT, "ready %.1f s after start", s.rejoinSeconds())));
        }
        for (SoakResult.ProcessRow p : r.processes()) {
            double change = heapChange(p);
            checks.add(new Check("heap after GC of " + p.name() + " within ±" + percent(heapTolerance),
                    Math.abs(change) <= heapTolerance, signedPercent(change)));
            List<String> grown = ThreadNames.grown(p.start().threadGroups(), p.end().threadGroups());
            int slack = p.restarted() ? Math.max(threadSlack, NEW_JVM_THREAD_SLACK) : threadSlack;
            String name = p.restarted() ? "live threads of " + p.name() + "'s new JVM within +" + slack + " of the old one's"
                    : "live threads of " + p.name() + " did not grow" + (slack > 0 ? " (beyond +" + slack + ")" : "");
            checks.add(new Check(name, p.end().liveThreads() <= p.start().liveThreads() + slack,
                    p.start().liveThreads() + " -> " + p.end().liveThreads() + (grown.isEmpty() ? "" : " " + grown)));
            if (p.start().kv() != null) {
                ProcessSample.KvBlocks a = p.start().kv(), b = p.end().kv();
                boolean back = b != null && a.active() == b.active() && a.free() == b.free();
                checks.add(new Check("KV blocks of " + p.name() + " back to start", back, b == null ? "not reported"
                        : "active " + a.active() + " -> " + b.active() + ", free " + a.free() + " -> " + b.free()));
            }
        }
        return List.copyOf(checks);
    }

    /** End heap over start heap, minus one. */
    static double heapChange(SoakResult.ProcessRow p) {
        return p.end().heapAfterGcBytes() / p.start().heapAfterGcBytes() - 1;
    }

    public static boolean allPassed(List<Check> checks) {
        return checks.stream().allMatch(Check::passed);
    }

    static String percent(double fraction) {
        return String.format(Locale.ROOT, "%.0f %%", fraction * 100);
    }

    static String signedPercent(double fraction) {
        return Double.isNaN(fraction) ? "n/a" : String.format(Locale.ROOT, "%+.1f %%", fraction * 100);
    }
}
