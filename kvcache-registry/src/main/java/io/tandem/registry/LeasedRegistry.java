package io.tandem.registry;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.vertx.core.Completable;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * What both registries share: leases and heartbeats of the workers registered here, the local
 * view with its expiry sweep, and change listeners. Subclasses only say how a record is
 * published and withdrawn.
 */
abstract sealed class LeasedRegistry implements WorkerRegistry permits LocalWorkerRegistry, HazelcastWorkerRegistry {

    static final System.Logger LOG = System.getLogger("io.tandem.registry");

    protected final Vertx vertx;
    protected final RegistryOptions options;
    protected final WorkerView view;
    /** The registry's own event-loop context: sweeps, and listeners added from outside Vert.x. */
    protected final Context home;
    private final LongSupplier nanoClock;
    private final LongSupplier wallClock;
    private final ConcurrentMap<String, Lease> leases = new ConcurrentHashMap<>();
    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private final io.vertx.core.Closeable closeHook = this::closeOnVertxClose;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile long sweepTimer = -1;

    LeasedRegistry(Vertx vertx, RegistryOptions options, LongSupplier nanoClock, LongSupplier wallClock) {
        this.vertx = vertx;
        this.options = options;
        this.nanoClock = nanoClock;
        this.wallClock = wallClock;
        this.view = new WorkerView(TimeUnit.MILLISECONDS.toNanos(options.leaseMillis()));
        this.home = ((VertxInternal) vertx).createEventLoopContext();
        ((VertxInternal) vertx).addCloseHook(closeHook);
    }

    /** Starts the expiry sweep; subclasses call it once they are ready. */
    protected final void startSweeping() {
        long period = Math.clamp(options.leaseMillis() / 12, 20, 500);
        home.runOnContext(v -> {
            if (!closed.get()) {
                sweepTimer = vertx.setPeriodic(period, t -> apply(() -> view.expire(nanoClock.getAsLong())));
            }
        });
    }

    /** Writes {@code record} where other nodes see it; runs on the lease's context. */
    protected abstract Future<Void> publish(WorkerRecord record);

    /** Withdraws {@code record} (it was registered here); runs on the lease's context. */
    protected abstract Future<Void> unpublish(WorkerRecord record);

    /** Releases what the subclass holds (listeners); called once by {@link #close()}. */
    protected abstract Future<Void> release();

    // ---- registration and heartbeats -------------------------------------------------------

    @Override
    public Future<Void> register(WorkerRecord record) {
        if (closed.get()) {
            return Future.failedFuture(new IllegalStateException("registry is closed"));
        }
        WorkerRecord first;
        try {
            first = validated(record);
        } catch (IllegalArgumentException e) {
            return Future.failedFuture(e);
        }
        ContextInternal context = (ContextInternal) vertx.getOrCreateContext();
        Lease lease = new Lease(context, first);
        // the registration ends with the registering verticle: undeploying it deregisters
        lease.onContextClose = completion -> withdraw(lease).onComplete(ar -> completion.succeed());
        context.addCloseHook(lease.onContextClose);
        Lease previous = leases.put(first.workerId(), lease);
        if (previous != null) {
            previous.stop();
        }
        Promise<Void> done = Promise.promise();
        lease.context.runOnContext(v -> {
            if (lease.stopped) {
                done.complete();
                return;
            }
            // the timer belongs to the registering context: it stops with that verticle
            lease.timer = vertx.setPeriodic(options.heartbeatMillis(), t -> heartbeat(lease));
            lease.lastPublishNanos = nanoClock.getAsLong();
            lease.enqueue(() -> publish(first)).onComplete(done);
        });
        return done.future();
    }

    @Override
    public void reportLoad(String workerId, WorkerLoad load) {
        Lease lease = workerId == null || load == null ? null : leases.get(workerId);
        if (lease == null) {
            return;
        }
        lease.reported.set(load);
        if (LoadChange.isLarge(lease.current.load(), load) && lease.urgent.compareAndSet(false, true)) {
            lease.context.runOnContext(v -> {
                long waitMillis = options.loadPublishMinMillis()
                        - TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong() - lease.lastPublishNanos);
                if (waitMillis <= 0) {
                    lease.urgent.set(false);
                    heartbeat(lease);
                } else {
                    vertx.setTimer(waitMillis, t -> {
                        lease.urgent.set(false);
                        heartbeat(lease);
                    });
                }
            });
        }
    }

    @Override
    public Future<Void> deregister(String workerId) {
        Lease lease = workerId == null ? null : leases.get(workerId);
        return lease == null ? Future.succeededFuture() : withdraw(lease);
    }

    /** Ends {@code lease} if it is still the worker's current one. */
    private Future<Void> withdraw(Lease lease) {
        if (!leases.remove(lease.current.workerId(), lease)) {
            return Future.succeededFuture();
        }
        lease.stop();
        Promise<Void> done = Promise.promise();
        lease.context.runOnContext(v -> lease.enqueue(() -> unpublish(lease.current)).onComplete(done));
        return done.future();
    }

    private void heartbeat(Lease lease) {
        if (lease.stopped || lease.busy) {
            return; // a publish is still in flight: skip rather than queue up
        }
        WorkerRecord prev = lease.current;
        WorkerRecord next = prev.withLoad(lease.reported.get(), Math.max(wallClock.getAsLong(), prev.heartbeatMillis() + 1));
        lease.current = next;
        lease.lastPublishNanos = nanoClock.getAsLong();
        lease.enqueue(() -> publish(next)).onFailure(e ->
                LOG.log(System.Logger.Level.WARNING, "heartbeat of worker " + next.workerId() + " failed: " + e));
    }

    private WorkerRecord validated(WorkerRecord r) {
        if (r == null) {
            throw new IllegalArgumentException("worker record is null");
        }
        if (r.workerId() == null || r.workerId().isBlank()) {
            throw new IllegalArgumentException("worker record has no workerId");
        }
        if (r.role() == null) {
            throw new IllegalArgumentException("worker " + r.workerId() + " has no role");
        }
        if (r.model() == null || r.model().isBlank()) {
            throw new IllegalArgumentException("worker " + r.workerId() + " has no model");
        }
        String node = r.nodeId() == null || r.nodeId().isEmpty() ? nodeId() : r.nodeId();
        if (!node.equals(nodeId())) {
            throw new IllegalArgumentException("worker " + r.workerId() + " claims node " + r.nodeId()
                    + " but this registry runs on node " + nodeId() + " (leave nodeId empty to have it filled in)");
        }
        if (r.contract() == null) {
            throw new IllegalArgumentException("worker " + r.workerId() + " states no cluster contract (model fingerprint, "
                    + "block size, KV dtype and layout)");
        }
        WorkerLoad load = r.load() == null ? WorkerLoad.IDLE : r.load();
        long now = wallClock.getAsLong();
        return new WorkerRecord(r.workerId(), r.role(), r.model(), node, r.host(), r.httpPort(), r.maxContext(),
                load, now, r.epoch(), r.contract(), now);
    }

    /** One worker registered through this registry. */
    private static final class Lease {
        final ContextInternal context;
        io.vertx.core.Closeable onContextClose;
        final AtomicReference<WorkerLoad> reported;
        final AtomicBoolean urgent = new AtomicBoolean();
        volatile WorkerRecord current;
        volatile boolean stopped;
        volatile long timer = -1;
        // the following are touched on `context` only
        long lastPublishNanos;
        boolean busy;
        Future<Void> tail = Future.succeededFuture();

        Lease(ContextInternal context, WorkerRecord first) {
            this.context = context;
            this.current = first;
            this.reported = new AtomicReference<>(first.load());
        }

        /** Runs {@code op} after the previous one finished, so writes of one worker stay ordered. */
        Future<Void> enqueue(Supplier<Future<Void>> op) {
            busy = true;
            Future<Void> next = tail.transform(ignored -> op.get());
            tail = next;
            next.onComplete(ar -> busy = tail != next);
            return next;
        }

        void stop() {
            stopped = true;
            if (onContextClose != null) {
                context.removeCloseHook(onContextClose);
            }
            long t = timer;
            if (t >= 0) {
                context.owner().cancelTimer(t);
            }
            context.runOnContext(v -> {
                if (timer >= 0) {
                    context.owner().cancelTimer(timer);
                }
            });
        }
    }

    // ---- the local view ------------------------------------------------------------------

    @Override
    public List<WorkerRecord> liveWorkers() {
        return view.all();
    }

    @Override
    public List<WorkerRecord> liveWorkers(String model) {
        return view.ofModel(model);
    }

    @Override
    public Optional<WorkerRecord> worker(String workerId) {
        return view.get(workerId);
    }

    @Override
    public Set<String> liveModels() {
        return view.models();
    }

    protected final long nanoTime() {
        return nanoClock.getAsLong();
    }

    protected final long wallMillis() {
        return wallClock.getAsLong();
    }

    /** Applies a change to the view and hands its events to listeners, in the order applied. */
    protected final void apply(Supplier<List<WorkerEvent>> change) {
        synchronized (view) {
            change.get().forEach(this::dispatch);
        }
    }

    private void dispatch(WorkerEvent event) {
        for (Subscription s : subscriptions) {
            s.context.runOnContext(v -> s.deliver(event));
        }
    }

    @Override
    public AutoCloseable onChange(Consumer<WorkerEvent> listener) {
        Context current = Vertx.currentContext();
        Subscription s = new Subscription(current != null ? current : home, listener);
        subscriptions.add(s);
        Runnable cancel = () -> {
            s.active = false;
            subscriptions.remove(s);
        };
        if (current instanceof ContextInternal context && context.isDeployment()) {
            // a listener added by a verticle goes with it
            io.vertx.core.Closeable hook = completion -> {
                cancel.run();
                completion.succeed();
            };
            context.addCloseHook(hook);
            return () -> {
                context.removeCloseHook(hook);
                cancel.run();
            };
        }
        return cancel::run;
    }

    private static final class Subscription {
        final Context context;
        final Consumer<WorkerEvent> listener;
        volatile boolean active = true;

        Subscription(Context context, Consumer<WorkerEvent> listener) {
            this.context = context;
            this.listener = listener;
        }

        void deliver(WorkerEvent event) {
            if (!active) {
                return;
            }
            try {
                listener.accept(event);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "worker registry listener failed on " + event, e);
            }
        }
    }

    // ---- closing ---------------------------------------------------------------------------

    @Override
    public Future<Void> close() {
        return close(true);
    }

    private Future<Void> close(boolean removeHook) {
        if (!closed.compareAndSet(false, true)) {
            return Future.succeededFuture();
        }
        if (removeHook) {
            ((VertxInternal) vertx).removeCloseHook(closeHook);
        }
        List<Future<Void>> withdrawn = new ArrayList<>();
        for (String id : List.copyOf(leases.keySet())) {
            withdrawn.add(deregister(id));
        }
        long t = sweepTimer;
        if (t >= 0) {
            vertx.cancelTimer(t);
        }
        subscriptions.forEach(s -> s.active = false);
        subscriptions.clear();
        return Future.join(withdrawn).transform(ignored -> release());
    }

    /** Closing Vert.x closes the registry first, so workers deregister before the member leaves. */
    private void closeOnVertxClose(Completable<Void> completion) {
        close(false).onComplete(ar -> completion.succeed());
    }
}
