package io.tandem.gateway.soak;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;

/** {@code gateway.jar soak}: see {@link io.tandem.gateway.soak}. Exit code 0 when every check held, 1 when one failed. */
@Command(name = "soak", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Starts a gateway and two simulated-engine workers as separate JVMs on loopback, keeps N "
                + "concurrent streamed completions open against the gateway for M minutes (random lengths, shared prompt "
                + "prefixes, random client disconnects and cancels), restarts one worker halfway (SIGTERM: it drains, "
                + "exits, and is started again), then prints requests, failures, migrations, and every process's heap "
                + "after GC, live threads and KV blocks at start and end.",
                "Fails (exit 1) when a request failed that the client did not cut short, a heap after GC moved more "
                        + "than the tolerance, live threads grew, KV blocks did not return to their start, or the "
                        + "restarted worker did not exit 0."})
public final class SoakCommand implements Callable<Integer> {
    @Option(names = "--minutes", paramLabel = "M", description = "measured load duration in minutes, fractions allowed (default: 10)")
    double minutes = 10;
    @Option(names = "--streams", paramLabel = "N", description = "concurrent streams (default: 1000)")
    int streams = 1000;
    @Option(names = "--warmup-seconds", paramLabel = "S",
            description = "load before the start sample, so caches, pools and the JIT are at steady state (default: 10 %% of the load, 15 to 60 s)")
    Integer warmupSeconds;
    @Option(names = "--min-tokens", paramLabel = "N", description = "fewest tokens a request asks for (default: 16)")
    int minTokens = LoadPlan.Mix.defaults().minTokens();
    @Option(names = "--max-tokens", paramLabel = "N", description = "most tokens a request asks for (default: 256)")
    int maxTokens = LoadPlan.Mix.defaults().maxTokens();
    @Option(names = "--disconnect-percent", paramLabel = "P", description = "requests whose client disconnects mid-stream (default: 5)")
    double disconnectPercent = LoadPlan.Mix.defaults().disconnectFraction() * 100;
    @Option(names = "--cancel-percent", paramLabel = "P", description = "requests cancelled within 3 s of sending (default: 5)")
    double cancelPercent = LoadPlan.Mix.defaults().cancelFraction() * 100;
    @Option(names = "--heap-tolerance-percent", paramLabel = "P", description = "allowed change of heap after GC, end vs start (default: 10)")
    double heapTolerancePercent = 10;
    @Option(names = "--thread-slack", paramLabel = "N",
            description = "threads a process may end with beyond its start count, for pools that start threads on demand (default: 0)")
    int threadSlack = 0;
    @Option(names = "--no-restart", description = "skip the mid-run worker restart")
    boolean noRestart;
    @Option(names = "--seed", paramLabel = "N", description = "seed of the load plan (default: random, printed)")
    Long seed;
    @Option(names = "--model", paramLabel = "PATH", description = "GGUF model for the gateway and workers (default: the bundled model)")
    Path model;
    @Option(names = "--engine-option", paramLabel = "KEY=VALUE", description = "sim engine setting for the workers, repeatable (default: the sim engine's)")
    List<String> engineOptions = new ArrayList<>();
    @Option(names = "--gateway-jar", paramLabel = "PATH", description = "gateway.jar to run (default: this jar)")
    Path gatewayJar;
    @Option(names = "--worker-jar", paramLabel = "PATH", description = "worker.jar to run (default: beside gateway.jar, or worker/target/worker.jar of its checkout)")
    Path workerJar;
    @Option(names = "--logs", paramLabel = "DIR", description = "where the processes' logs go (default: soak-logs/<time> beside gateway.jar)")
    Path logs;
    @Option(names = "--json", description = "print the result as one JSON line instead of the tables")
    boolean json;

    @Override
    public Integer call() throws Exception {
        PrintStream err = System.err;
        Soak.Settings settings;
        try {
            settings = settings();
        } catch (IllegalArgumentException e) {
            err.println("soak: " + e.getMessage());
            return 2;
        }
        SoakResult result;
        try {
            result = new Soak(settings, err).run();
        } catch (Exception e) {
            err.println("soak: could not run: " + e.getMessage() + " (process logs: " + settings.logs() + ")");
            return 2;
        }
        List<SoakChecks.Check> checks = SoakChecks.of(result, heapTolerancePercent / 100, threadSlack);
        System.out.println(json ? SoakReport.json(result, checks) : "\n" + SoakReport.table(result, checks));
        System.out.flush();
        return SoakChecks.allPassed(checks) ? 0 : 1;
    }

    Soak.Settings settings() {
        if (streams < 1) throw new IllegalArgumentException("--streams must be >= 1");
        if (!(minutes > 0)) throw new IllegalArgumentException("--minutes must be > 0");
        if (threadSlack < 0) throw new IllegalArgumentException("--thread-slack must be >= 0");
        if (heapTolerancePercent < 0) throw new IllegalArgumentException("--heap-tolerance-percent must be >= 0");
        Duration load = Duration.ofMillis(Math.round(minutes * 60_000));
        Duration warmup = warmupSeconds != null ? Duration.ofSeconds(warmupSeconds) : defaultWarmup(load);
        if (warmup.isNegative() || warmup.isZero()) throw new IllegalArgumentException("--warmup-seconds must be >= 1");
        LoadPlan.Mix d = LoadPlan.Mix.defaults();
        LoadPlan.Mix mix = new LoadPlan.Mix(minTokens, maxTokens, disconnectPercent / 100, cancelPercent / 100,
                d.maxCancelMillis(), d.sharedPrefixes(), d.sharedFraction());
        Path gateway = gatewayJar != null ? gatewayJar : thisJar();
        Path worker = workerJar != null ? workerJar : besides(gateway);
        for (Path jar : List.of(gateway, worker)) {
            if (!Files.isRegularFile(jar)) throw new IllegalArgumentException("no jar " + jar + " (build with ./tandem build, or pass --gateway-jar/--worker-jar)");
        }
        if (model != null && !Files.isRegularFile(model)) throw new IllegalArgumentException("no model file " + model);
        List<String> modelFlags = model == null ? List.of() : List.of("--model", model.toAbsolutePath().toString());
        List<String> workerFlags = new ArrayList<>(List.of("--engine", "sim"));
        workerFlags.addAll(modelFlags);
        for (String o : engineOptions) workerFlags.addAll(List.of("--engine-option", o));
        Path logDir = logs != null ? logs : gateway.toAbsolutePath().getParent().resolve("soak-logs")
                .resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        return new Soak.Settings(gateway, worker, logDir, streams, load, warmup, mix,
                seed != null ? seed : ThreadLocalRandom.current().nextLong(), !noRestart, List.copyOf(workerFlags), modelFlags);
    }

    /** 10 % of the load, at least 15 s (the prefix caches and pools fill) and at most a minute. */
    static Duration defaultWarmup(Duration load) {
        long seconds = Math.max(15, Math.min(60, load.toSeconds() / 10));
        return Duration.ofSeconds(seconds);
    }

    /** The jar this class was loaded from, else the checkout's gateway/target/gateway.jar. */
    private static Path thisJar() {
        try {
            Path source = Path.of(SoakCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (source.toString().endsWith(".jar") && source.getFileName().toString().equals("gateway.jar")) return source;
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            // not from a jar: fall through
        }
        return Path.of("gateway/target/gateway.jar").toAbsolutePath();
    }

    /** worker.jar in the same directory, else in the checkout's worker/target. */
    static Path besides(Path gatewayJar) {
        Path dir = gatewayJar.toAbsolutePath().getParent();
        Path sibling = dir.resolve("worker.jar");
        if (Files.isRegularFile(sibling)) return sibling;
        return dir.resolveSibling("../worker/target/worker.jar").normalize();
    }
}
