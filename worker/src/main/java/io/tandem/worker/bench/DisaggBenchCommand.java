package io.tandem.worker.bench;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tandem.protocol.Addresses;
import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.WorkerRole;
import io.tandem.protocol.progress.Progress;
import io.tandem.registry.LocalWorkerRegistry;
import io.tandem.worker.DeployedWorker;
import io.tandem.worker.WorkerDeployment;
import io.tandem.worker.WorkerOptions;
import io.tandem.worker.disagg.DisaggregationOptions;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code worker.jar disagg-bench}: how much of the time to first token a remote prefill spends on KV transfer. A
 * prefill and a decode worker (and, for reference, an aggregated one) run in this JVM; each run sends a fresh prompt
 * (no prefix hit anywhere) to the decode worker, which has it prefilled remotely. Reported per backend, with and without
 * layer-wise transfer: TTFT aggregated and disaggregated, the KV moved, and the transfer time still on the first token's
 * path after the prefill's compute ({@code tandem_transfer_exposed_seconds}) as a share of TTFT.
 */
@Command(name = "disagg-bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measures the share of time to first token spent on KV transfer in a remote prefill.")
public final class DisaggBenchCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH", description = "GGUF model (e.g. the benchmark model)")
    Path model;
    @Option(names = {"-p", "--prompt-tokens"}, paramLabel = "N", description = "prompt length (default: 2032)")
    int promptTokens = 2032;
    @Option(names = {"-r", "--runs"}, paramLabel = "N", description = "measured runs per configuration, after one warm-up (default: 3)")
    int runs = 3;
    @Option(names = "--backends", split = ",", paramLabel = "B", description = "transfer backends (default: shm,tcp,ucx)")
    List<String> backends = List.of("shm", "tcp", "ucx");
    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "compute threads of each worker (default: all cores)")
    int threads = Runtime.getRuntime().availableProcessors();
    @Option(names = "--kv-dtype", paramLabel = "T", description = "f32 or f16 (default: f32)")
    String kvDtype = "f32";

    private record Row(String backend, boolean layerwise, double ttftAggMs, double ttftMs, double kvMiB, double exposedMs) {
    }

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(model)) {
            System.err.println("disagg-bench: no model file " + model);
            return 2;
        }
        Vertx vertx = Vertx.vertx();
        ProtocolCodecs.registerAll(vertx.eventBus());
        List<Row> rows = new ArrayList<>();
        Progress progress = Progress.onStderr("disagg-bench", "runs", (long) backends.size() * 2 * runs);
        int measured = 0;
        try {
            Map<String, Object> engine = Map.of("threads", threads, "kv-cache-memory", "512MiB", "kv-dtype", kvDtype,
                    "max-num-batched-tokens", Math.max(2048, promptTokens));
            // the aggregated reference runs the same prompts, interleaved with the disaggregated runs (drift cancels)
            DeployedWorker aggregated = deploy(vertx, new LocalWorkerRegistry(vertx), WorkerRole.BOTH, engine,
                    DisaggregationOptions.DEFAULTS.withTransfer("tcp").withMaxLocalPrefillTokens(Integer.MAX_VALUE), new SimpleMeterRegistry());
            ttfts(vertx, aggregated, 1, new Random(98)); // warm-up
            for (String backend : backends) {
                for (boolean layerwise : new boolean[] {true, false}) {
                    LocalWorkerRegistry registry = new LocalWorkerRegistry(vertx);
                    DisaggregationOptions d = DisaggregationOptions.DEFAULTS.withTransfer(backend).withMaxLocalPrefillTokens(0)
                            .withLayerwise(layerwise);
                    SimpleMeterRegistry prefillMeters = new SimpleMeterRegistry();
                    DeployedWorker prefill = deploy(vertx, registry, WorkerRole.PREFILL, engine, d, prefillMeters);
                    DeployedWorker decode = deploy(vertx, registry, WorkerRole.DECODE, engine, d, new SimpleMeterRegistry());
                    try {
                        if (!backend.equals(transferOf(prefill))) {
                            measured += runs; // not run: counted, so the ETA stays honest
                            progress.clear();
                            System.err.println("disagg-bench: backend " + backend + " unavailable here (" + transferOf(prefill) + "); skipped");
                            continue;
                        }
                        ttfts(vertx, decode, 1, new Random(99)); // warm-up
                        // deltas over the measured runs (the warm-up's transfers are already in the meters)
                        Timer exposed = prefillMeters.get("tandem_transfer_exposed_seconds").timer();
                        long exposedCount0 = exposed.count();
                        double exposedMs0 = exposed.totalTime(TimeUnit.MILLISECONDS), bytes0 = transferredBytes(prefillMeters);
                        double[] agg = new double[runs], dis = new double[runs];
                        for (int i = 0; i < runs; i++) { // the same fresh prompt on both: no prefix hit anywhere
                            long seed = 1000L * rows.size() + (layerwise ? 500 : 0) + backend.hashCode() * 31L + i;
                            agg[i] = ttfts(vertx, aggregated, 1, new Random(seed))[0];
                            dis[i] = ttfts(vertx, decode, 1, new Random(seed))[0];
                            progress.update(++measured, backend + " layer-wise=" + layerwise);
                        }
                        double aggMs = median(agg), ttft = median(dis);
                        double bytes = transferredBytes(prefillMeters) - bytes0;
                        long exposedCount = exposed.count() - exposedCount0;
                        rows.add(new Row(backend, layerwise, aggMs, ttft, bytes / runs / (1 << 20), exposedCount == 0 ? Double.NaN
                                : (exposed.totalTime(TimeUnit.MILLISECONDS) - exposedMs0) / exposedCount));
                        progress.clear();
                        System.err.printf(Locale.ROOT, "%s layer-wise=%s: TTFT %.1f ms%n", backend, layerwise, ttft);
                    } finally {
                        decode.undeploy(vertx).await(30, TimeUnit.SECONDS);
                        prefill.undeploy(vertx).await(30, TimeUnit.SECONDS);
                    }
                }
            }
            aggregated.undeploy(vertx).await(30, TimeUnit.SECONDS);
        } finally {
            progress.close();
            vertx.close().await(30, TimeUnit.SECONDS);
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "%d-token prompt, %s, %d threads per worker, KV %s, median of %d runs%n%n", promptTokens,
                model.getFileName(), threads, kvDtype, runs);
        System.out.println("| backend | layer-wise | TTFT aggregated ms | TTFT disaggregated ms | KV moved MiB | transfer after compute ms | its share of TTFT | TTFT over aggregated |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|---:|");
        for (Row r : rows) {
            System.out.printf(Locale.ROOT, "| %s | %s | %.1f | %.1f | %.1f | %.2f | %.2f%% | %+.1f%% |%n", r.backend(), r.layerwise() ? "yes" : "no",
                    r.ttftAggMs(), r.ttftMs(), r.kvMiB(), r.exposedMs(), 100 * r.exposedMs() / r.ttftMs(),
                    100 * (r.ttftMs() - r.ttftAggMs()) / r.ttftAggMs());
        }
        return 0;
    }

    private static double transferredBytes(MeterRegistry meters) {
        return meters.find("tandem_transfer_bytes").counters().stream().mapToDouble(c -> c.count()).sum();
    }

    private static String transferOf(DeployedWorker w) {
        return w.verticle().transferBackend();
    }

    private DeployedWorker deploy(Vertx vertx, LocalWorkerRegistry registry, WorkerRole role, Map<String, Object> engine,
                                  DisaggregationOptions d, MeterRegistry meters) throws Exception {
        WorkerOptions o = WorkerOptions.defaults(role).withModelPath(model).withEngine("cpu", engine).withoutHttp().withDisaggregation(d);
        return WorkerDeployment.deploy(vertx, registry, o, meters).await(120, TimeUnit.SECONDS);
    }

    /** Sends {@code n} fresh prompts one after another; the time from sending each to its first token, in ms. */
    private double[] ttfts(Vertx vertx, DeployedWorker w, int n, Random random) throws Exception {
        double[] out = new double[n];
        int vocab = w.engine().info().vocabSize();
        for (int i = 0; i < n; i++) {
            String id = "bench-" + System.nanoTime();
            CompletableFuture<Long> first = new CompletableFuture<>();
            CompletableFuture<Void> done = new CompletableFuture<>();
            MessageConsumer<StreamMessage> c = vertx.eventBus().consumer(Addresses.stream(id), m -> {
                if (m.body() instanceof StreamMessage.Tokens) first.complete(System.nanoTime());
                else done.complete(null);
            });
            c.completion().await(5, TimeUnit.SECONDS);
            int[] prompt = random.ints(promptTokens, 10, vocab).toArray();
            SamplingParams greedy = new SamplingParams(1, 0f, 1f, 0, 0f, null, 0f, 0f, new int[0], true, -1);
            long start = System.nanoTime();
            vertx.eventBus().request(Addresses.generate(w.workerId()), new GenerateRequest(id, null, prompt, greedy,
                    Addresses.stream(id), 16)).await(30, TimeUnit.SECONDS);
            out[i] = (first.get(300, TimeUnit.SECONDS) - start) / 1e6;
            done.get(60, TimeUnit.SECONDS);
            c.unregister().await(5, TimeUnit.SECONDS);
        }
        return out;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
