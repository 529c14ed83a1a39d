package io.tandem.gateway.soak;

import java.util.List;
import java.util.Map;

/**
 * Everything a soak run measured, for {@link SoakChecks} and {@link SoakReport}.
 *
 * @param streams        concurrent streams kept open
 * @param loadSeconds    how long the measured load ran
 * @param warmupSeconds  load before the start sample (caches, pools and JIT reach their steady state)
 * @param counts         request outcomes, warm-up included
 * @param processes      every process's start and end sample
 * @param migrations     {@code tandem_migrations_total} by reason, during the measured load
 * @param restarts       the worker restarts: one halfway through the warm-up (so the start sample already counts
 *                       what a restart leaves behind once, like a lazily started thread) and one halfway through
 *                       the load; empty with --no-restart
 * @param unfinished     streams still open when the settle time ran out (0 when all ended)
 */
public record SoakResult(int streams, double loadSeconds, double warmupSeconds, Tally.Counts counts,
                         List<ProcessRow> processes, Map<String, Long> migrations, List<Restart> restarts, int unfinished) {

    /** One process: its start sample and its end sample (for a restarted worker, from its new JVM). */
    public record ProcessRow(String name, boolean restarted, ProcessSample start, ProcessSample end) {}

    /**
     * @param phase         {@code warm-up} or {@code load}
     * @param worker        which worker
     * @param atSeconds     when SIGTERM was sent, from the start of its phase
     * @param exitCode      the old process's exit code (-1 when it had to be killed)
     * @param stopSeconds   SIGTERM to exit
     * @param rejoinSeconds start of the new process to its first /ready 200 (NaN when it never was)
     */
    public record Restart(String phase, String worker, double atSeconds, int exitCode, double stopSeconds, double rejoinSeconds) {}
}
