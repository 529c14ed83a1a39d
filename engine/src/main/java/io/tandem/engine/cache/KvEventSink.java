package io.tandem.engine.cache;

import io.tandem.protocol.kv.KvEventBatch;

/**
 * Where a worker's KV events go (the worker publishes them to the registry). Called on the
 * engine thread that owns the cache: it must not block and should not throw — a batch that
 * fails to publish is lost, and its consumer will see the gap in sequence numbers and resync.
 */
@FunctionalInterface
public interface KvEventSink {
    /** Discards every batch (a cache whose contents nobody tracks, e.g. the bench). */
    KvEventSink NONE = batch -> {};

    void publish(KvEventBatch batch);
}
