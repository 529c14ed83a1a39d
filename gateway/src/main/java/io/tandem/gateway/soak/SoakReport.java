package io.tandem.gateway.soak;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The soak's result as llama-bench-style markdown tables, or as one JSON line. */
public final class SoakReport {
    private SoakReport() {
    }

    public static String table(SoakResult r, List<SoakChecks.Check> checks) {
        Tally.Counts c = r.counts();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "soak: %d concurrent streams for %s (after %s of warm-up), 1 gateway + 2 sim workers%n",
                r.streams(), duration(r.loadSeconds()), duration(r.warmupSeconds())));
        for (SoakResult.Restart s : r.restarts()) {
            sb.append(String.format(Locale.ROOT, "restart (%s): %s got SIGTERM at %s, exited %d after %.1f s, ready again %s%n",
                    s.phase(), s.worker(), duration(s.atSeconds()), s.exitCode(), s.stopSeconds(),
                    Double.isNaN(s.rejoinSeconds()) ? "never" : String.format(Locale.ROOT, "%.1f s after its start", s.rejoinSeconds())));
        }
        double seconds = r.loadSeconds() + r.warmupSeconds();
        sb.append('\n');
        row(sb, "requests", "completed", "disconnected", "cancelled", "failed", "chunks", "req/s", "chunks/s");
        rule(sb, 8);
        row(sb, Long.toString(c.requests()), Long.toString(c.completed()), Long.toString(c.disconnected()),
                Long.toString(c.cancelled()), Long.toString(c.failed()), Long.toString(c.chunks()),
                String.format(Locale.ROOT, "%.1f", c.requests() / seconds), String.format(Locale.ROOT, "%.0f", c.chunks() / seconds));
        sb.append('\n');
        row(sb, "process", "heap after GC start", "end", "change", "threads start", "end", "KV active start", "end", "KV free start", "end");
        rule(sb, 10);
        for (SoakResult.ProcessRow p : r.processes()) {
            ProcessSample.KvBlocks a = p.start().kv(), b = p.end().kv();
            row(sb, p.name() + (p.restarted() ? " (restarted)" : ""), mib(p.start().heapAfterGcBytes()), mib(p.end().heapAfterGcBytes()),
                    SoakChecks.signedPercent(SoakChecks.heapChange(p)),
                    Integer.toString(p.start().liveThreads()), Integer.toString(p.end().liveThreads()),
                    a == null ? "-" : Integer.toString(a.active()), b == null ? "-" : Integer.toString(b.active()),
                    a == null ? "-" : blocks(a.free()), b == null ? "-" : blocks(b.free()));
        }
        sb.append('\n');
        String[] head = new String[r.migrations().size() + 1], counts = new String[head.length];
        head[0] = "migrations";
        counts[0] = Long.toString(r.migrations().values().stream().mapToLong(Long::longValue).sum());
        int i = 1;
        for (Map.Entry<String, Long> e : new java.util.TreeMap<>(r.migrations()).entrySet()) {
            head[i] = e.getKey();
            counts[i++] = Long.toString(e.getValue());
        }
        row(sb, head);
        rule(sb, head.length);
        row(sb, counts);
        sb.append('\n');
        row(sb, "check", "result", "detail");
        rule(sb, 3);
        for (SoakChecks.Check k : checks) row(sb, k.name(), k.passed() ? "ok" : "FAILED", k.detail());
        if (!c.failureSamples().isEmpty()) {
            sb.append("\nfirst failures:\n");
            c.failureSamples().forEach(f -> sb.append("  ").append(f).append('\n'));
        }
        sb.append('\n').append(SoakChecks.allPassed(checks) ? "soak: PASS" : "soak: FAIL").append('\n');
        return sb.toString();
    }

    public static String json(SoakResult r, List<SoakChecks.Check> checks) {
        Tally.Counts c = r.counts();
        JsonArray processes = new JsonArray();
        for (SoakResult.ProcessRow p : r.processes()) {
            processes.add(new JsonObject().put("name", p.name()).put("restarted", p.restarted())
                    .put("start", sample(p.start())).put("end", sample(p.end())));
        }
        JsonArray checked = new JsonArray();
        checks.forEach(k -> checked.add(new JsonObject().put("name", k.name()).put("passed", k.passed()).put("detail", k.detail())));
        JsonObject json = new JsonObject().put("passed", SoakChecks.allPassed(checks)).put("streams", r.streams())
                .put("loadSeconds", r.loadSeconds()).put("warmupSeconds", r.warmupSeconds())
                .put("requests", c.requests()).put("completed", c.completed()).put("disconnected", c.disconnected())
                .put("cancelled", c.cancelled()).put("failed", c.failed()).put("chunks", c.chunks())
                .put("failuresByKind", new JsonObject(Map.copyOf(c.failuresByKind())))
                .put("failureSamples", new JsonArray(c.failureSamples()))
                .put("migrations", new JsonObject(Map.copyOf(r.migrations())))
                .put("unfinished", r.unfinished()).put("processes", processes).put("checks", checked);
        JsonArray restarts = new JsonArray();
        for (SoakResult.Restart s : r.restarts()) {
            restarts.add(new JsonObject().put("phase", s.phase()).put("worker", s.worker()).put("atSeconds", s.atSeconds())
                    .put("exitCode", s.exitCode()).put("stopSeconds", s.stopSeconds())
                    .put("rejoinSeconds", Double.isNaN(s.rejoinSeconds()) ? null : s.rejoinSeconds()));
        }
        json.put("restarts", restarts);
        return json.encode();
    }

    private static JsonObject sample(ProcessSample s) {
        JsonObject json = new JsonObject().put("heapAfterGcBytes", (long) s.heapAfterGcBytes()).put("liveThreads", s.liveThreads());
        if (s.kv() != null) json.put("activeBlocks", s.kv().active()).put("freeBlocks", s.kv().free());
        return json;
    }

    private static void row(StringBuilder sb, String... cells) {
        sb.append('|');
        for (String cell : cells) sb.append(' ').append(cell).append(" |");
        sb.append('\n');
    }

    private static void rule(StringBuilder sb, int columns) {
        sb.append('|');
        sb.append("---:|".repeat(columns));
        sb.append('\n');
    }

    static String mib(double bytes) {
        return Double.isNaN(bytes) ? "n/a" : String.format(Locale.ROOT, "%.1f MiB", bytes / (1024 * 1024));
    }

    private static String blocks(int n) {
        return n < 0 ? "n/a" : Integer.toString(n);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s < 60 ? s + " s" : String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
    }
}
