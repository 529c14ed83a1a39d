package io.tandem.loadtests.replay;

import io.tandem.protocol.progress.Progress;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code ./tandem replay}: the command line of the trace replay (docs/REPLAY.md). */
@Command(name = "replay", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Replays a Mooncake-format trace (one JSON object per line: timestamp ms, input_length, output_length, "
                + "hash_ids of 512-token blocks) open loop against an OpenAI-compatible /v1/completions server.")
public final class ReplayCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "TRACE", description = "the trace file (JSON lines)")
    Path trace;

    @Option(names = "--url", required = true, description = "the server, e.g. http://127.0.0.1:8000")
    String url;

    @Option(names = "--requests", paramLabel = "N", description = "replay the first N requests of the trace (default: all)")
    int requests = Integer.MAX_VALUE;

    @Option(names = "--speedup", paramLabel = "X", description = "divide the trace's timestamps by X (default: ${DEFAULT-VALUE})")
    double speedup = 1;

    @Option(names = "--block-tokens", paramLabel = "T", description = "tokens each 512-token hash block becomes; lengths scale by T/512 (default: ${DEFAULT-VALUE})")
    int blockTokens = 16;

    @Option(names = "--model", paramLabel = "M", description = "the model to ask for (default: the server's first in /v1/models)")
    String model;

    @Option(names = "--vocab", paramLabel = "V", description = "token ids are drawn below V: the model's vocabulary size or less (default: ${DEFAULT-VALUE}, "
            + "the bundled model's; ids 0-2, llama's special tokens, are never drawn)")
    int vocab = 4096;

    @Option(names = "--context", paramLabel = "C", description = "the model's context length (default: max_model_len from /v1/models)")
    Integer context;

    @Option(names = "--drain-seconds", paramLabel = "S", description = "after the last send, wait at most S for the requests in flight, then cut them (counted failed; default: ${DEFAULT-VALUE})")
    double drainSeconds = 120;

    @Option(names = "--json", description = "print one JSON line instead of the table")
    boolean json;

    @Option(names = "--plot", paramLabel = "FILE.svg", description = "also draw TTFT, ITL and the hit rate over time as SVG")
    Path plot;

    @Option(names = "--no-progress", description = "no progress on stderr (by default a bar redrawn in place on a terminal, "
            + "else a line every 10 s)")
    boolean noProgress;

    private final PrintStream out;
    private final PrintStream err;

    ReplayCommand(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line; returns the exit status (0, 1 when a request failed, 2 on a usage error). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new ReplayCommand(out, err));
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            err.println("replay: " + e.getMessage());
            return 2;
        });
        return cl.execute(args);
    }

    @Override
    public Integer call() throws IOException {
        List<TraceEntry> entries = TraceEntry.read(trace, requests);
        try (Replayer replayer = new Replayer(stripSlash(url))) {
            JsonObject models;
            try {
                models = replayer.getJson("/v1/models");
            } catch (IllegalStateException e) {
                throw new IllegalStateException("cannot list the models of " + url + " (GET /v1/models): " + e.getMessage()
                        + "; is --url a running OpenAI-compatible server?", e);
            }
            JsonObject served = servedModel(models);
            String name = served.getString("id");
            int ctx = context != null ? context : served.getInteger("max_model_len", 0);
            if (ctx < 2) throw new IllegalArgumentException("the server states no max_model_len for " + name + ": give --context");
            List<ReplayRequest> planned = new Scaling(blockTokens, vocab, ctx, speedup).requests(entries);
            Progress bar = new Progress(err, Progress.onTerminal(), System::nanoTime, Progress.LINE_EVERY_NANOS, "replay", "done",
                    planned.size());
            Replayer.Result result = replayer.run(name, planned, (long) (drainSeconds * 1e9), 250,
                    c -> { if (!noProgress) bar.update(c.done(), counts(c.sent(), c.failed())); });
            ReplayStats stats = ReplayStats.of(result.samples(), result.wallNanos());
            if (!noProgress) {
                bar.update(stats.requests(), counts(stats.requests(), stats.failed()));
                bar.finish();
            }
            if (json) out.println(stats.toJson().encode());
            else out.print(stats.table());
            if (plot != null) {
                Files.writeString(plot, SvgPlot.render(result.samples(), "replay of " + trace.getFileName() + " (" + planned.size()
                        + " requests, speedup " + speedup + ", " + blockTokens + " tokens per block) on " + name));
                err.println("replay: plot written to " + plot);
            }
            return stats.failed() == 0 ? 0 : 1;
        }
    }

    private JsonObject servedModel(JsonObject models) {
        JsonArray data = models.getJsonArray("data", new JsonArray());
        if (data.isEmpty()) throw new IllegalStateException("the server at " + url + " serves no model (/v1/models is empty)");
        if (model == null) return data.getJsonObject(0);
        for (int i = 0; i < data.size(); i++) if (model.equals(data.getJsonObject(i).getString("id"))) return data.getJsonObject(i);
        throw new IllegalArgumentException("the server at " + url + " does not serve '" + model + "'; it serves " + data.stream()
                .map(m -> ((JsonObject) m).getString("id")).toList());
    }

    private static String stripSlash(String u) {
        return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
    }

    private static String counts(int sent, int failed) {
        return sent + " sent, " + failed + " failed";
    }
}
