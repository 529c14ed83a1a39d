package io.tandem.registry.kv;

import io.tandem.protocol.kv.KvEvent;
import io.tandem.protocol.kv.KvEventBatch;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Keeps a {@link KvIndex} in step with the workers' event batches. Each worker numbers its batches
 * 0, 1, 2, … A batch that continues the sequence is applied. One that starts with a clear (a
 * snapshot: the worker's whole cache) is applied whatever came before. A duplicate or older batch
 * is dropped. Anything else means batches were missed: the batch is still applied (its stored
 * blocks are real) and the worker is asked to resync — to publish a snapshot — which makes the
 * index exact again.
 *
 * <p>Thread-safe per worker as long as one worker's batches are fed from one thread at a time.
 */
public final class KvIndexFeed {
    /** How a batch was handled. */
    public enum Outcome { APPLIED, SNAPSHOT, DUPLICATE, GAP }

    private final KvIndex index;
    private final Consumer<String> resync;
    private final Map<String, Long> lastSeq = new ConcurrentHashMap<>();
    private final Map<String, Long> resyncRequestedAt = new ConcurrentHashMap<>();
    private final long resyncRetryMillis;
    private volatile long resyncs;

    /**
     * @param resync            asks a worker for a snapshot (called at most once per {@code resyncRetryMillis}
     *                          per worker until the snapshot arrives)
     */
    public KvIndexFeed(KvIndex index, Consumer<String> resync, long resyncRetryMillis) {
        this.index = index;
        this.resync = resync;
        this.resyncRetryMillis = resyncRetryMillis;
    }

    public Outcome onBatch(KvEventBatch batch) {
        String worker = batch.workerId();
        Long last = lastSeq.get(worker);
        boolean snapshot = !batch.events().isEmpty() && batch.events().getFirst() instanceof KvEvent.AllBlocksCleared;
        Outcome outcome;
        if (snapshot) {
            if (last != null && batch.seq() <= last) return Outcome.DUPLICATE;
            outcome = Outcome.SNAPSHOT;
            resyncRequestedAt.remove(worker);
        } else if (last == null ? batch.seq() == 0 : batch.seq() == last + 1) {
            outcome = Outcome.APPLIED;
        } else if (last != null && batch.seq() <= last) {
            return Outcome.DUPLICATE;
        } else {
            outcome = Outcome.GAP;
        }
        for (KvEvent e : batch.events()) index.apply(worker, e);
        lastSeq.put(worker, batch.seq());
        if (outcome == Outcome.GAP || (resyncRequestedAt.containsKey(worker) && outcome == Outcome.APPLIED)) {
            requestResync(worker);
        }
        return outcome;
    }

    /** Asks for a snapshot unless one was asked for recently and has not come yet. */
    public void requestResync(String worker) {
        long now = System.currentTimeMillis();
        Long at = resyncRequestedAt.get(worker);
        if (at != null && now - at < resyncRetryMillis) return;
        resyncRequestedAt.put(worker, now);
        resyncs++;
        resync.accept(worker);
    }

    /** The worker is gone: forget its blocks and its sequence. */
    public void removeWorker(String worker) {
        lastSeq.remove(worker);
        resyncRequestedAt.remove(worker);
        index.removeWorker(worker);
    }

    public long resyncsRequested() {
        return resyncs;
    }

    public KvIndex index() {
        return index;
    }
}
