package io.tandem.registry;

import io.tandem.protocol.ClusterContract;
import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;

import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Records and waiting helpers the registry tests share. */
public final class Workers {
    private Workers() {}

    /** The contract every fixture record states. */
    public static final ClusterContract CONTRACT = ClusterContract.of("00112233445566778899aabbccddeeff", 16, "f32", "2x2x8");

    public static WorkerRecord record(String id, String model) {
        return record(id, model, "", 0);
    }

    public static WorkerRecord record(String id, String model, String nodeId, long heartbeatMillis) {
        return new WorkerRecord(id, WorkerRole.BOTH, model, nodeId, "127.0.0.1", 8100, 2048, WorkerLoad.IDLE, heartbeatMillis,
                id.hashCode() | 1L, CONTRACT, 0);
    }

    /** A verticle that registers {@code record} in its start, as a worker does. */
    public record Deployed(String deploymentId, Context context) {
        /**
         * Blocks the verticle's context until the returned handle is closed: its heartbeats stop, as in a hung worker,
         * for as long as the test needs to observe it hung (not for a guessed time).
         */
        public AutoCloseable hang() {
            CountDownLatch release = new CountDownLatch(1);
            context.runOnContext(v -> {
                try {
                    if (!release.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("a test never released its hung worker");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            return release::countDown;
        }
    }

    /** Deploys, on a worker thread (so blocking it blocks nothing else), a verticle that registers {@code record}. */
    public static Deployed deployRegistering(Vertx vertx, WorkerRegistry registry, WorkerRecord record) {
        Context[] registeredOn = new Context[1];
        String id = vertx.deployVerticle(new VerticleBase() {
            @Override
            public Future<?> start() {
                registeredOn[0] = context;
                return registry.register(record);
            }
        }, new DeploymentOptions().setThreadingModel(ThreadingModel.WORKER)).await();
        return new Deployed(id, registeredOn[0]);
    }

    /** Waits up to {@code millis} for {@code condition}; fails with {@code what} and the time waited. */
    public static long eventually(long millis, BooleanSupplier condition, Supplier<String> what) {
        long start = System.nanoTime();
        long deadline = start + millis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + millis + " ms: " + what.get());
            }
            try {
                Thread.sleep(10); // the polling interval: the loop re-checks the condition
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    /**
     * Asserts {@code condition} stays true for {@code millis}: for something that must NOT happen, where no later event
     * would prove it did not. The window is explicit and bounded; its length decides how likely a bug is caught, never
     * whether a correct run passes.
     */
    public static void stays(long millis, BooleanSupplier condition, Supplier<String> what) {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < deadline) {
            if (!condition.getAsBoolean()) {
                throw new AssertionError("stopped holding: " + what.get());
            }
            try {
                Thread.sleep(10); // the polling interval: the loop re-checks the condition
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted");
            }
        }
    }
}
