package io.tandem.gateway.soak;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * One soak run: starts the cluster, warms it up, samples every process at rest, runs the load for its duration with
 * one worker restarted (SIGTERM, then started again) halfway, stops the load, lets the cluster settle, samples again.
 * The warm-up restarts the worker too, so that what a first restart leaves behind for good (Hazelcast starts a
 * thread the first time a member connection closes) is in the start sample, and the measured restart must add
 * nothing.
 */
final class Soak {
    /** Startup of a JVM on a loaded two-core machine, Hazelcast join included. */
    private static final Duration START_TIMEOUT = Duration.ofMinutes(3);
    /** A worker's default --drain-timeout (30 s) plus its deregistration and cluster leave. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(90);
    /** After the load stops: the longest stream (queue wait included) must end within this. */
    private static final Duration DRAIN_LOAD_TIMEOUT = Duration.ofMinutes(3);
    /** After the streams ended: KV blocks freed, in-flight counts back to zero. */
    private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(60);
    /**
     * After that: pools that start threads on demand let idle ones go (Hazelcast's cached pool after 60 s), so a
     * process with more threads than at the start gets this long to come back down; a leaked thread never does.
     */
    private static final Duration THREADS_SETTLE_TIMEOUT = Duration.ofSeconds(90);

    /**
     * What to run.
     *
     * @param workerFlags flags every worker gets besides {@code -cluster --host --port} (engine, model)
     * @param gatewayFlags flags the gateway gets besides {@code -cluster --host --port}
     */
    record Settings(Path gatewayJar, Path workerJar, Path logs, int streams, Duration load, Duration warmup,
                    LoadPlan.Mix mix, long seed, boolean restart, List<String> workerFlags, List<String> gatewayFlags) {}

    private final Settings s;
    private final PrintStream progress;

    Soak(Settings settings, PrintStream progress) {
        this.s = settings;
        this.progress = progress;
    }

    SoakResult run() throws Exception {
        try (SoakCluster cluster = new SoakCluster(s.logs())) {
            log("cluster logs in " + cluster.logs() + "; seed " + s.seed());
            SoakCluster.Node gateway = cluster.gateway(s.gatewayJar(), s.gatewayFlags());
            List<SoakCluster.Node> workers = List.of(
                    cluster.worker("worker-a", s.workerJar(), s.workerFlags()),
                    cluster.worker("worker-b", s.workerJar(), s.workerFlags()));
            for (SoakCluster.Node w : workers) cluster.awaitPort(w, START_TIMEOUT);
            cluster.awaitPort(gateway, START_TIMEOUT);
            for (SoakCluster.Node n : all(gateway, workers)) {
                if (!cluster.awaitReady(n, START_TIMEOUT)) throw new IllegalStateException(n.name + " never became ready (see " + cluster.logs() + ")");
            }
            JsonObject served = new JsonObject(cluster.get(gateway.base() + "/v1/models")).getJsonArray("data").getJsonObject(0);
            String model = served.getString("id");
            LoadPlan plan = new LoadPlan(s.mix(), s.seed(), served.getInteger("max_model_len"));
            log("gateway on :" + gateway.port() + ", workers on :" + workers.get(0).port() + " and :" + workers.get(1).port()
                    + ", model " + model + " (context " + served.getInteger("max_model_len") + "): prompts up to "
                    + plan.promptWords() + " words, " + s.mix().minTokens() + " to " + plan.maxTokens() + " tokens");

            Vertx vertx = Vertx.vertx();
            Tally tally = new Tally();
            LoadDriver driver = new LoadDriver(vertx, gateway.port(), model, plan, s.streams(), tally, s.seed());
            try {
                return measure(cluster, gateway, workers, driver, tally);
            } finally {
                driver.stopStarting();
                driver.closeConnections();
                vertx.close().await(30, TimeUnit.SECONDS);
            }
        }
    }

    private SoakResult measure(SoakCluster cluster, SoakCluster.Node gateway, List<SoakCluster.Node> workers,
                               LoadDriver driver, Tally tally) throws Exception {
        List<SoakResult.Restart> restarts = new ArrayList<>();
        log("warm-up: " + s.streams() + " streams for " + seconds(s.warmup()) + (s.restart() ? ", " + workers.get(1).name + " restarted halfway" : ""));
        long warmupStart = System.nanoTime();
        driver.start();
        if (s.restart()) {
            runFor(s.warmup().dividedBy(2), driver, tally, null);
            restarts.add(restart(cluster, workers.get(1), "warm-up", warmupStart));
        }
        Duration warmupLeft = s.warmup().minusNanos(System.nanoTime() - warmupStart);
        if (!warmupLeft.isNegative()) runFor(warmupLeft, driver, tally, null);
        double warmupSeconds = (System.nanoTime() - warmupStart) / 1e9;
        driver.stopStarting();
        if (!driver.awaitIdle(DRAIN_LOAD_TIMEOUT)) throw new IllegalStateException(driver.open() + " warm-up streams never ended");
        driver.closeConnections();
        Map<String, ProcessSample> start = new LinkedHashMap<>();
        awaitSettled(cluster, gateway, workers, null);
        for (SoakCluster.Node n : all(gateway, workers)) start.put(n.name, cluster.sample(n));
        Map<String, Double> migrationsBefore = migrations(cluster, gateway);
        start.forEach((name, sample) -> log(String.format(Locale.ROOT, "start: %s heap after GC %s, %d threads%s", name,
                SoakReport.mib(sample.heapAfterGcBytes()), sample.liveThreads(), sample.kv() == null ? ""
                        : ", KV blocks active " + sample.kv().active() + " free " + sample.kv().free())));

        log("load: " + s.streams() + " streams for " + seconds(s.load()));
        long loadStart = System.nanoTime();
        driver.start();
        if (s.restart()) {
            runFor(s.load().dividedBy(2), driver, tally, loadStart);
            restarts.add(restart(cluster, workers.get(1), "load", loadStart));
        }
        Duration left = s.load().minusNanos(System.nanoTime() - loadStart);
        if (!left.isNegative()) runFor(left, driver, tally, loadStart);
        double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
        driver.stopStarting();
        log("load stopped; waiting for " + driver.open() + " open streams to end");
        driver.awaitIdle(DRAIN_LOAD_TIMEOUT);
        int unfinished = driver.open();
        driver.closeConnections();

        awaitSettled(cluster, gateway, workers, start);
        awaitThreads(cluster, all(gateway, workers), start);
        List<SoakResult.ProcessRow> rows = new ArrayList<>();
        for (SoakCluster.Node n : all(gateway, workers)) {
            boolean restarted = restarts.stream().anyMatch(r -> r.worker().equals(n.name));
            rows.add(new SoakResult.ProcessRow(n.name, restarted, start.get(n.name), cluster.sample(n)));
        }
        Map<String, Long> migrations = new TreeMap<>();
        migrations(cluster, gateway).forEach((reason, n) -> migrations.put(reason, Math.round(n - migrationsBefore.getOrDefault(reason, 0.0))));
        return new SoakResult(s.streams(), loadSeconds, warmupSeconds, tally.counts(), rows, migrations, restarts, unfinished);
    }

    /** SIGTERM to the worker: it drains and exits; then the same command line again, until it is ready. */
    private SoakResult.Restart restart(SoakCluster cluster, SoakCluster.Node worker, String phase, long phaseStart) throws Exception {
        double at = (System.nanoTime() - phaseStart) / 1e9;
        log("SIGTERM to " + worker.name + " (pid " + worker.pid() + ")");
        long t0 = System.nanoTime();
        int exit = cluster.stop(worker, STOP_TIMEOUT);
        double stopSeconds = (System.nanoTime() - t0) / 1e9;
        log(worker.name + " exited " + exit + " after " + String.format(Locale.ROOT, "%.1f s", stopSeconds) + "; starting it again");
        long t1 = System.nanoTime();
        cluster.restart(worker);
        double rejoin = Double.NaN;
        try {
            cluster.awaitPort(worker, START_TIMEOUT);
            if (cluster.awaitReady(worker, START_TIMEOUT)) rejoin = (System.nanoTime() - t1) / 1e9;
        } catch (IllegalStateException e) {
            log("restarted " + worker.name + " did not come up: " + e.getMessage());
        }
        return new SoakResult.Restart(phase, worker.name, at, exit, stopSeconds, rejoin);
    }

    /**
     * Waits until the workers hold no request (nothing running or waiting, KV blocks as at {@code start}, when given)
     * and the gateway has nothing in flight and no client connection left but the one reading its metrics; bounded,
     * after which the end sample shows what did not settle.
     */
    private void awaitSettled(SoakCluster cluster, SoakCluster.Node gateway, List<SoakCluster.Node> workers,
                              Map<String, ProcessSample> start) throws InterruptedException {
        long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (settled(cluster, gateway, workers, start)) return;
            Thread.sleep(500);
        }
        log("the cluster did not settle within " + seconds(SETTLE_TIMEOUT));
    }

    private static boolean settled(SoakCluster cluster, SoakCluster.Node gateway, List<SoakCluster.Node> workers,
                                   Map<String, ProcessSample> start) {
        try {
            PrometheusText g = new PrometheusText(cluster.metrics(gateway));
            if (g.sum("tandem_gateway_in_flight_requests") > 0 || g.sum("vertx_http_server_active_connections") > 2) return false;
            for (SoakCluster.Node w : workers) {
                PrometheusText m = new PrometheusText(cluster.metrics(w));
                if (m.sum("tandem_worker_running_requests") > 0 || m.sum("tandem_worker_waiting_requests") > 0
                        || m.sum("tandem_worker_streams") > 0) return false;
                if (start != null && start.get(w.name).kv() != null
                        && m.sum("tandem_worker_active_blocks") != start.get(w.name).kv().active()) return false;
            }
            return true;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Waits (bounded) until no process has more live threads than at its start sample. */
    private void awaitThreads(SoakCluster cluster, List<SoakCluster.Node> nodes, Map<String, ProcessSample> start)
            throws InterruptedException {
        long deadline = System.nanoTime() + THREADS_SETTLE_TIMEOUT.toNanos();
        boolean told = false;
        while (System.nanoTime() < deadline) {
            List<String> above = new ArrayList<>();
            for (SoakCluster.Node n : nodes) {
                int live = cluster.liveThreads(n);
                if (live < 0 || live > start.get(n.name).liveThreads()) above.add(n.name + " " + live);
            }
            if (above.isEmpty()) return;
            if (!told) log("waiting up to " + seconds(THREADS_SETTLE_TIMEOUT) + " for idle pool threads to end: " + above);
            told = true;
        }
    }

    private static Map<String, Double> migrations(SoakCluster cluster, SoakCluster.Node gateway) throws IOException, InterruptedException {
        return new PrometheusText(cluster.metrics(gateway)).byLabel("tandem_migrations_total", "reason");
    }

    /** Lets the load run for {@code d}, printing progress now and then. */
    private void runFor(Duration d, LoadDriver driver, Tally tally, Long loadStart) throws InterruptedException {
        long end = System.nanoTime() + d.toNanos();
        long every = Math.max(10, Math.min(60, d.toSeconds() / 5)) * 1_000_000_000L, nextReport = System.nanoTime() + every;
        while (true) {
            long now = System.nanoTime();
            if (now >= end) return;
            Thread.sleep(Math.min(TimeUnit.NANOSECONDS.toMillis(end - now) + 1, 500)); // the load's duration, not a sync
            if (System.nanoTime() >= nextReport) {
                Tally.Counts c = tally.counts();
                log(String.format(Locale.ROOT, "%s open %d, completed %d, disconnected %d, cancelled %d, failed %d",
                        loadStart == null ? "warm-up:" : "t=" + Math.round((System.nanoTime() - loadStart) / 1e9) + " s:",
                        driver.open(), c.completed(), c.disconnected(), c.cancelled(), c.failed()));
                nextReport += every;
            }
        }
    }

    private static List<SoakCluster.Node> all(SoakCluster.Node gateway, List<SoakCluster.Node> workers) {
        List<SoakCluster.Node> all = new ArrayList<>(List.of(gateway));
        all.addAll(workers);
        return all;
    }

    private static String seconds(Duration d) {
        return SoakReport.duration(d.toMillis() / 1000.0);
    }

    private void log(String line) {
        progress.println("soak: " + line);
        progress.flush();
    }
}
