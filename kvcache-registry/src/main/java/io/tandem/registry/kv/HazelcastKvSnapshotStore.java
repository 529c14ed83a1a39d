package io.tandem.registry.kv;

import com.hazelcast.map.IMap;
import io.tandem.protocol.codec.KvEventBatchCodec;
import io.tandem.protocol.kv.KvEventBatch;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Snapshots in a Hazelcast map, binary-encoded with the event-bus codec, each with a time-to-live
 * of one lease. Hazelcast calls run on Vert.x worker threads, never on an event loop.
 */
public final class HazelcastKvSnapshotStore implements KvSnapshotStore {
    private static final KvEventBatchCodec CODEC = new KvEventBatchCodec();

    private final Vertx vertx;
    private final IMap<String, byte[]> map;
    private final long leaseMillis;

    public HazelcastKvSnapshotStore(Vertx vertx, IMap<String, byte[]> map, long leaseMillis) {
        this.vertx = vertx;
        this.map = map;
        this.leaseMillis = leaseMillis;
    }

    @Override
    public Future<Void> put(KvEventBatch snapshot) {
        byte[] bytes = CODEC.encode(snapshot).getBytes();
        return vertx.executeBlocking(() -> {
            map.set(snapshot.workerId(), bytes, leaseMillis, TimeUnit.MILLISECONDS);
            return null;
        }, false);
    }

    @Override
    public long leaseMillis() {
        return leaseMillis;
    }

    @Override
    public Future<Void> remove(String workerId) {
        return vertx.executeBlocking(() -> {
            map.delete(workerId);
            return null;
        }, false);
    }

    @Override
    public Future<List<KvEventBatch>> all() {
        return vertx.executeBlocking(() -> {
            List<KvEventBatch> out = new ArrayList<>();
            for (byte[] b : map.values()) out.add(CODEC.decode(Buffer.buffer(b)));
            return out;
        }, false);
    }
}
