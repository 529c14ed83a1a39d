package io.tandem.registry.cluster;

import io.netty.util.concurrent.EventExecutor;
import io.tandem.platform.LinuxThreads;
import io.tandem.platform.RealTimeEventLoops;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.core.spi.VertxTracerFactory;
import io.vertx.core.spi.cluster.ClusterManager;
import io.vertx.core.transport.Transport;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.StreamSupport;

/**
 * How a Tandem Vert.x's event loops are scheduled against the other threads on their cores. The event loops admit
 * requests and relay every token, and they share the cores with the compute threads, the JIT compilers and, on a
 * test machine, the load client. Under Linux's fair scheduler a waking event loop often waited for the running
 * thread's next tick (4 ms at 250 Hz) even when that thread was a {@code SCHED_IDLE} compute thread; in real-time
 * scheduling it takes the core when it wakes. docs/BENCHMARKS.md has the measurement.
 */
public enum EventLoopPriority {
    /**
     * {@code SCHED_FIFO} at priority 1, the lowest real-time one, where Linux permits it (root, {@code CAP_SYS_NICE},
     * or an {@code RLIMIT_RTPRIO} of 1 or more); else as {@link #NORMAL}, with a warning. An event loop blocks in
     * {@code epoll_wait} whenever it has nothing to do, and Linux's real-time throttling (by default 95 % of each
     * second) keeps a runaway loop from taking a core whole.
     */
    REALTIME,
    /** Linux's fair scheduler, like every other thread. */
    NORMAL;

    /** The real-time priority of {@link #REALTIME}. */
    static final int FIFO_PRIORITY = 1;
    private static final System.Logger LOG = System.getLogger(EventLoopPriority.class.getName());
    private static final AtomicBoolean REPORTED = new AtomicBoolean();

    /** {@code realtime} or {@code normal}, as {@code --event-loop-priority} takes it. */
    public static EventLoopPriority parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "realtime" -> REALTIME;
            case "normal" -> NORMAL;
            default -> throw new IllegalArgumentException("expected realtime or normal, got '" + s + "'");
        };
    }

    /**
     * Schedules every event loop of {@code vertx} as this says, each as its next task (a task submitted to a loop
     * afterwards runs with the priority set). The first time per process, logs whether real-time scheduling took.
     * Where Linux permits it, {@link RealTimeEventLoops} is told before this returns, so that an engine started on
     * this Vert.x schedules its compute threads knowing the loops preempt them.
     */
    void applyTo(Vertx vertx) {
        if (this == NORMAL) return;
        if (LinuxThreads.fifoPermitted(FIFO_PRIORITY)) RealTimeEventLoops.announce();
        Iterable<EventExecutor> group = ((VertxInternal) vertx).nettyEventLoopGroup();
        List<EventExecutor> loops = StreamSupport.stream(group.spliterator(), false).toList();
        AtomicInteger pending = new AtomicInteger(loops.size());
        AtomicInteger refused = new AtomicInteger();
        for (EventExecutor loop : loops) {
            loop.execute(() -> {
                if (!LinuxThreads.fifo(FIFO_PRIORITY)) refused.incrementAndGet();
                if (pending.decrementAndGet() == 0) report(loops.size(), refused.get());
            });
        }
    }

    /** {@code builder}, whose Vert.x gets event loops at this priority. */
    VertxBuilder appliedBy(VertxBuilder builder) {
        return new Applying(builder, this);
    }

    private static void report(int loops, int refused) {
        if (!REPORTED.compareAndSet(false, true)) return;
        if (refused == 0) {
            LOG.log(System.Logger.Level.INFO, "event loops run real-time (SCHED_FIFO " + FIFO_PRIORITY + "): " + loops);
        } else {
            LOG.log(System.Logger.Level.WARNING, "event loops run at normal priority: real-time scheduling refused for "
                    + refused + " of " + loops + " (it needs root, CAP_SYS_NICE or an RLIMIT_RTPRIO of at least "
                    + FIFO_PRIORITY + "; --event-loop-priority normal asks for none)");
        }
    }

    /** Vert.x's builder, applying {@code priority} to the Vert.x it builds. */
    private record Applying(VertxBuilder builder, EventLoopPriority priority) implements VertxBuilder {
        @Override
        public VertxBuilder with(VertxOptions options) {
            builder.with(options);
            return this;
        }

        @Override
        public VertxBuilder withMetrics(VertxMetricsFactory factory) {
            builder.withMetrics(factory);
            return this;
        }

        @Override
        public VertxBuilder withTracer(VertxTracerFactory factory) {
            builder.withTracer(factory);
            return this;
        }

        @Override
        public VertxBuilder withTransport(Transport transport) {
            builder.withTransport(transport);
            return this;
        }

        @Override
        public VertxBuilder withClusterManager(ClusterManager manager) {
            builder.withClusterManager(manager);
            return this;
        }

        @Override
        public Vertx build() {
            Vertx vertx = builder.build();
            priority.applyTo(vertx);
            return vertx;
        }

        @Override
        public Future<Vertx> buildClustered() {
            return builder.buildClustered().onSuccess(priority::applyTo);
        }
    }
}
