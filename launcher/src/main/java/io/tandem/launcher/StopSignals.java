package io.tandem.launcher;

import sun.misc.Signal;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A graceful stop on SIGTERM or SIGINT, run once, then {@code System.exit} with the code it returns (0 after a clean
 * drain). It runs from a signal handler rather than from a shutdown hook because the JVM's shutdown hooks run all at
 * once: {@code java.util.logging} closes its handlers in its own hook (a drain's log lines would be lost) and the exit
 * status would be 143 whatever the drain did. Here the drain runs first, then the JVM shuts down as usual.
 * <p>
 * A repeated signal is logged and ignored (a terminal's Ctrl-C reaches both JVMs of a {@link JvmRelaunch}, and the
 * parent passes a SIGTERM on as well). The stop is bounded: when it has not returned after {@code bound}, the process
 * halts with status 1. Where the JVM keeps the signals to itself ({@code -Xrs}), a shutdown hook runs the same stop.
 */
public final class StopSignals {
    private static final System.Logger LOG = System.getLogger(StopSignals.class.getName());

    /** The graceful stop: drains and releases everything; returns the exit code. */
    @FunctionalInterface
    public interface Stop {
        int run() throws Exception;
    }

    private final String program;
    private final Duration bound;
    private final Stop stop;
    private final AtomicBoolean started = new AtomicBoolean();
    private final CountDownLatch done = new CountDownLatch(1);

    private StopSignals(String program, Duration bound, Stop stop) {
        this.program = program;
        this.bound = bound;
        this.stop = stop;
    }

    /**
     * @param program the name in messages ({@code worker.jar})
     * @param bound   how long {@code stop} may take before the process halts (its drain timeout plus teardown)
     */
    public static void install(String program, Duration bound, Stop stop) {
        StopSignals s = new StopSignals(program, bound, stop);
        for (String name : new String[]{"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), s::onSignal);
            } catch (IllegalArgumentException e) { // -Xrs, or the platform lacks it: the shutdown hook stops instead
                LOG.log(System.Logger.Level.DEBUG, "no SIG" + name + " handler: " + e.getMessage());
            }
        }
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("tandem-stop").unstarted(s::fromShutdownHook));
    }

    private void onSignal(Signal signal) {
        if (!started.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.INFO, program + ": SIG" + signal.getName() + " again; already stopping");
            return;
        }
        LOG.log(System.Logger.Level.INFO, program + ": SIG" + signal.getName() + ": stopping gracefully");
        int code = runBounded();
        System.exit(code); // the shutdown hooks run now; ours finds the stop done
    }

    /** The JVM exits without our signal handler (System.exit elsewhere, -Xrs): stop here, or wait for the stop running. */
    private void fromShutdownHook() {
        if (started.compareAndSet(false, true)) {
            runBounded();
            return;
        }
        try {
            done.await(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private int runBounded() {
        Thread.ofPlatform().daemon().name("tandem-stop-bound").start(() -> {
            try {
                if (done.await(bound.toMillis(), TimeUnit.MILLISECONDS)) return;
            } catch (InterruptedException e) {
                return;
            }
            System.err.println(program + ": did not stop within " + bound.toSeconds() + " s; halting");
            Runtime.getRuntime().halt(1);
        });
        try {
            return stop.run();
        } catch (Exception | Error e) {
            System.err.println(program + ": unclean stop: " + e);
            return 1;
        } finally {
            done.countDown();
        }
    }
}
