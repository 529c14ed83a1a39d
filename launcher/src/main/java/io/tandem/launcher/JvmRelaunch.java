package io.tandem.launcher;

import io.tandem.launcher.RelaunchPlan.Decision;
import io.tandem.launcher.RelaunchPlan.Jvm;
import io.tandem.launcher.RelaunchPlan.Relaunch;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Full speed from a plain {@code java -jar worker.jar …}: the CPU kernels need {@code --add-modules
 * jdk.incubator.vector}, which no manifest attribute can add. Called first thing in {@code main}, before anything
 * else loads, this starts the same java binary again with the original JVM options plus
 * {@link RelaunchPlan#ADDED_FLAGS}, the same jar (or class path and main class) and the same arguments, with this
 * process's stdin, stdout and stderr; then it waits and exits with the child's exit code. SIGTERM, SIGINT and SIGHUP
 * to this process are passed on (the child is asked to stop, drains, and this process exits with its code once it
 * has), and a
 * child whose parent vanishes (SIGKILL) stops by itself. Nothing happens when the module is already loaded (the
 * Dockerfiles and {@code ./tandem} pass the flags), when the runtime lacks it (a jlink image: the engine then warns),
 * or when {@code TANDEM_RELAUNCH=0} or {@code -Dtandem.relaunch=false} is set.
 */
public final class JvmRelaunch {
    /** How long an orphaned child may take to stop cleanly before it halts. */
    static final long ORPHAN_STOP_SECONDS = 10;

    private JvmRelaunch() {
    }

    /**
     * Returns when this JVM should run the program itself; otherwise runs it in a relaunched JVM and exits with its
     * exit code (never returns).
     *
     * @param program   the name in messages ({@code worker.jar})
     * @param mainClass the class whose {@code main} calls this
     */
    public static void relaunchIfNeeded(String program, Class<?> mainClass, String[] args) {
        if (Boolean.getBoolean(RelaunchPlan.MARKER_PROPERTY)) {
            watchParent(program, System.getenv(RelaunchPlan.PARENT_PID_ENV));
            return;
        }
        Decision decision;
        try {
            decision = RelaunchPlan.decide(Jvm.current(mainClass), args, ProcessHandle.current().pid());
        } catch (LinkageError | RuntimeException e) { // a runtime without java.management: the engine warns later
            return;
        }
        if (decision instanceof Relaunch relaunch) {
            System.err.println(program + ": restarting java with " + RelaunchPlan.addedFlags() + " so the CPU kernels"
                    + " use the Vector API (to stay in this JVM, with scalar kernels: TANDEM_RELAUNCH=0 or"
                    + " -Dtandem.relaunch=false)");
            Child child = new Child(program);
            Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("tandem-relaunch-stop").unstarted(child::stop));
            if (child.start(relaunch)) System.exit(child.await());
        }
    }

    /** The relaunched JVM, as seen from the parent. */
    private static final class Child {
        private final String program;
        private Process process;
        private boolean stopping;

        Child(String program) {
            this.program = program;
        }

        /** False when it could not start (this JVM then runs the program itself) or this JVM is already exiting. */
        synchronized boolean start(Relaunch plan) {
            if (stopping) return false;
            ProcessBuilder pb = new ProcessBuilder(plan.command()).inheritIO();
            plan.removeEnv().forEach(pb.environment()::remove);
            pb.environment().putAll(plan.setEnv());
            try {
                process = pb.start();
                return true;
            } catch (IOException e) {
                System.err.println(program + ": could not restart java (" + e.getMessage() + "); running in this JVM");
                return false;
            }
        }

        int await() {
            while (true) {
                try {
                    return process.waitFor();
                } catch (InterruptedException e) {
                    // nothing interrupts main on purpose; keep waiting for the child
                }
            }
        }

        /** Shutdown hook: a signal (or the child's end) makes this JVM exit; pass it on and exit as the child did. */
        void stop() {
            Process p;
            synchronized (this) {
                stopping = true;
                p = process;
            }
            if (p == null) return;
            try {
                if (p.isAlive()) {
                    // SIGTERM: the child drains (up to its --drain-timeout) and bounds its own stop (StopSignals), so
                    // no limit here would be right for every drain timeout; SIGKILL to this JVM still ends both
                    p.destroy();
                    p.waitFor();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
            Runtime.getRuntime().halt(p.isAlive() ? 1 : p.exitValue()); // the exit code the child chose
        }
    }

    /** In the relaunched JVM: when the parent dies without passing a signal on (SIGKILL), stop too. */
    static void watchParent(String program, String pidText) {
        RelaunchPlan.parsePid(pidText).ifPresent(pid -> ProcessHandle.of(pid)
                .map(ProcessHandle::onExit)
                .orElseGet(() -> CompletableFuture.completedFuture(null))
                .thenRun(() -> {
                    System.err.println(program + ": the JVM that started this one (pid " + pid + ") is gone; stopping");
                    Thread.ofPlatform().daemon().name("tandem-orphan-halt").start(() -> {
                        try {
                            Thread.sleep(TimeUnit.SECONDS.toMillis(ORPHAN_STOP_SECONDS)); // a bound, not a synchronisation
                        } catch (InterruptedException ignored) {
                            // halt now
                        }
                        Runtime.getRuntime().halt(1);
                    });
                    Thread.ofPlatform().name("tandem-orphan-exit").start(() -> System.exit(1));
                }));
    }
}
