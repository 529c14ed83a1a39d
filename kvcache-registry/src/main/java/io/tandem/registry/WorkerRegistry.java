package io.tandem.registry;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.vertx.core.Future;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Which workers exist, with leases.
 *
 * <p>A worker {@link #register registers} once; the registry then refreshes its lease with a
 * heartbeat on the Vert.x context that called {@code register}, so the registration follows the
 * registering verticle: undeploying it deregisters the worker, and if its context hangs the
 * heartbeats stop and the record disappears everywhere within one lease (it comes back when
 * the heartbeats resume). Reads ({@link #liveWorkers()}, {@link #worker}) are
 * local and allocation-free: every node keeps a view in sync, never a remote call per request.
 */
public interface WorkerRegistry {

    /**
     * Publishes the worker and starts its heartbeat. The record's {@code nodeId} must be
     * {@link #nodeId()} or empty/null (then it is filled in). Registering an id again replaces it.
     */
    Future<Void> register(WorkerRecord record);

    /**
     * Records the worker's current load; it is published with the next heartbeat, or at once
     * when it changed a lot. Cheap and callable from any thread. Unknown ids are ignored.
     */
    void reportLoad(String workerId, WorkerLoad load);

    /** Stops the heartbeat and removes the worker everywhere. Unknown ids succeed. */
    Future<Void> deregister(String workerId);

    /** Live workers of every model, in a stable order (by worker id). Local read. */
    List<WorkerRecord> liveWorkers();

    /** Live workers serving {@code model}, by worker id. Local read. */
    List<WorkerRecord> liveWorkers(String model);

    /** One live worker by id. Local read. */
    Optional<WorkerRecord> worker(String workerId);

    /** Names of the models at least one live worker serves, sorted. Local read. */
    Set<String> liveModels();

    /**
     * Calls {@code listener} for every change of the live view (workers added, updated,
     * removed) after the view has changed. The listener runs on the Vert.x context that called
     * {@code onChange} (or on the registry's own context when called from outside Vert.x).
     *
     * @return closing it stops further calls; a listener added by a verticle also stops when
     *         the verticle is undeployed
     */
    AutoCloseable onChange(Consumer<WorkerEvent> listener);

    /** Where workers keep snapshots of their prefix caches, with the same lease as their records. */
    io.tandem.registry.kv.KvSnapshotStore kvSnapshots();

    /** The cluster node this registry runs in; records registered here carry it as nodeId. */
    String nodeId();

    /** Deregisters every worker registered through this instance and stops listening. */
    Future<Void> close();
}
