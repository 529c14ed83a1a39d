package io.tandem.transfer;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * kill(2) for tests that need a peer frozen at a known point: SIGSTOP stops every thread of the peer at once (no more
 * socket reads, no UCX progress), so a transfer posted afterwards is surely still in flight when SIGKILL lands.
 */
public final class ProcessSignals {
    private static final int SIGKILL = 9, SIGSTOP = 19; // x86-64 and aarch64 Linux
    private static final MethodHandle KILL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("kill").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    private ProcessSignals() {
    }

    public static void stop(Process p) {
        send(p, SIGSTOP);
    }

    /** SIGKILL (a stopped process dies too) and waits until it is gone. */
    public static void kill(Process p) throws InterruptedException {
        send(p, SIGKILL);
        if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) throw new IllegalStateException("peer " + p.pid() + " survived SIGKILL");
    }

    private static void send(Process p, int signal) {
        try {
            int rc = (int) KILL.invokeExact((int) p.pid(), signal);
            if (rc != 0) throw new IllegalStateException("kill(" + p.pid() + ", " + signal + ") failed");
        } catch (Throwable t) {
            throw t instanceof RuntimeException r ? r : new IllegalStateException(t);
        }
    }
}
