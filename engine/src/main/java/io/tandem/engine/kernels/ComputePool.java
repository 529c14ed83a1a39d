package io.tandem.engine.kernels;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A fixed set of compute threads that run one parallel loop at a time: {@link #run} hands out task indices
 * {@code 0 .. count-1} to the calling thread and {@code threads - 1} workers, which claim them from a shared counter
 * (so a core that is busy elsewhere does less); the caller waits only for the workers that took part, not for one
 * still waking up after every task was claimed ({@link LoopGate}). Nothing is allocated per call. Between loops the
 * workers spin briefly (forward steps issue loops back to back) and then park. The workers run at the pool's
 * {@link ComputePriority}, so event loops sharing the cores preempt them; the caller's priority is its owner's
 * business (the CPU engine sets its engine thread's).
 */
public final class ComputePool implements AutoCloseable {

    /** The body of a parallel loop: task {@code index}, run on worker {@code worker} ({@code 0} is the caller). */
    @FunctionalInterface
    public interface Task {
        void run(int index, int worker);
    }

    private static final long SPIN_NANOS = 50_000;

    private final int threads;
    private final Thread[] workers;
    private final ReentrantLock callerLock = new ReentrantLock();
    private final AtomicInteger next = new AtomicInteger();
    private final LoopGate gate = new LoopGate();
    private volatile long epoch;
    private volatile boolean closed;
    private volatile Thread caller;
    private volatile boolean callerParked;
    private Task task;   // published to the workers by the volatile write of epoch
    private int count;
    private volatile Throwable failure;
    private final ParkFlag[] flags;
    private final ComputePriority priority;

    /** One worker's "I am about to park" flag (its own object, so flags do not share a field). */
    private static final class ParkFlag {
        volatile boolean parked;
    }

    public ComputePool(int threads) {
        this(threads, ComputePriority.UNCHANGED);
    }

    /** A pool whose worker threads run at {@code priority}, which they have taken when this returns. */
    public ComputePool(int threads, ComputePriority priority) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.priority = java.util.Objects.requireNonNull(priority, "priority");
        this.workers = new Thread[threads - 1];
        this.flags = new ParkFlag[threads - 1];
        CountDownLatch scheduled = new CountDownLatch(workers.length);
        for (int i = 0; i < workers.length; i++) {
            flags[i] = new ParkFlag();
            int worker = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name("tandem-compute-" + worker).unstarted(() -> {
                priority.applyToCurrentThread();
                scheduled.countDown();
                workerLoop(worker);
            });
            workers[i].start();
        }
        boolean interrupted = false;
        while (true) {
            try {
                scheduled.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** Number of threads a loop runs on, the caller included. */
    public int threads() {
        return threads;
    }

    /**
     * Runs {@code task} for every index in {@code [0, count)} and returns when all are done. The first exception a
     * task throws is rethrown here (remaining tasks are skipped). Loops do not nest; one caller at a time.
     */
    public void run(int count, Task task) {
        if (count <= 0) return;
        if (closed) throw new IllegalStateException("compute pool is closed");
        if (threads == 1 || count == 1) {
            for (int i = 0; i < count; i++) task.run(i, 0);
            return;
        }
        if (!callerLock.tryLock()) throw new IllegalStateException("ComputePool.run is not reentrant or concurrent");
        try {
            this.task = task;
            this.count = count;
            this.failure = null;
            this.caller = Thread.currentThread();
            next.set(0);
            long loop = epoch + 1;
            gate.open(loop);
            epoch = loop; // publishes task, count, next and the open gate
            for (int i = 0; i < workers.length; i++) {
                if (flags[i].parked) LockSupport.unpark(workers[i]);
            }
            runTasks(0);
            gate.close(); // every task is claimed: wait only for the workers running theirs
            awaitWorkers();
            this.task = null;
            Throwable t = failure;
            if (t != null) {
                failure = null;
                if (t instanceof RuntimeException re) throw re;
                if (t instanceof Error e) throw e;
                throw new IllegalStateException(t);
            }
        } finally {
            callerLock.unlock();
        }
    }

    private void runTasks(int worker) {
        Task t = task;
        int n = count;
        for (int i; (i = next.getAndIncrement()) < n; ) {
            try {
                t.run(i, worker);
            } catch (Throwable e) {
                if (failure == null) failure = e;
                next.set(n);
            }
        }
    }

    private void awaitWorkers() {
        long start = System.nanoTime();
        int spins = 0;
        while (gate.inside() != 0) {
            if (++spins < 64 || System.nanoTime() - start < SPIN_NANOS) {
                Thread.onSpinWait();
                continue;
            }
            callerParked = true;
            if (gate.inside() != 0) LockSupport.parkNanos(100_000);
            callerParked = false;
        }
    }

    private void workerLoop(int worker) {
        ParkFlag flag = flags[worker - 1];
        long seen = 0;
        while (true) {
            long start = System.nanoTime();
            int spins = 0;
            long e;
            while ((e = epoch) == seen && !closed) {
                if (++spins < 64 || System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                    continue;
                }
                flag.parked = true;
                if (epoch == seen && !closed) LockSupport.park(this);
                flag.parked = false;
            }
            if (closed) return;
            seen = e;
            if (!gate.enter(e)) continue; // woke after the loop's tasks were all claimed: nothing to do
            runTasks(worker);
            if (gate.leave() && callerParked) LockSupport.unpark(caller);
        }
    }

    /** Stops the workers (a loop in progress finishes first). */
    @Override
    public void close() {
        callerLock.lock();
        try {
            closed = true;
            for (Thread w : workers) LockSupport.unpark(w);
        } finally {
            callerLock.unlock();
        }
        for (Thread w : workers) {
            try {
                w.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
