package io.tandem.registry;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.query.Predicates;
import io.tandem.protocol.WorkerRecord;
import io.tandem.registry.WorkerEvent.Cause;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.WARNING;

/**
 * The cluster-wide registry: records live in the Hazelcast map {@link RegistryOptions#mapName()}
 * as JSON, each with a time-to-live of one lease that every heartbeat renews. Every node keeps
 * its own view in sync through an entry listener (plus an initial load), drops at once the
 * records of a member that left, and drops any record not refreshed within the lease (a hung
 * JVM whose member is still there, or a split brain). Hazelcast calls run on Vert.x worker
 * threads, never on an event loop.
 *
 * <p>Use {@link #create} (or construct and {@link #start()}); {@code nodeId} is the Hazelcast
 * member UUID of this node, see {@link #nodeIdOf(HazelcastInstance)}.
 */
public final class HazelcastWorkerRegistry extends LeasedRegistry {

    private final HazelcastInstance hazelcast;
    private final IMap<String, HazelcastJsonValue> map;
    private final String nodeId;
    /** Keys whose record could not be read: warned about once, not on every heartbeat. */
    private final java.util.Set<String> unreadable = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile UUID entryListener;
    private volatile UUID membershipListener;

    public HazelcastWorkerRegistry(Vertx vertx, HazelcastInstance hazelcast, RegistryOptions options) {
        super(vertx, options, System::nanoTime, System::currentTimeMillis);
        this.hazelcast = Objects.requireNonNull(hazelcast, "hazelcast");
        this.map = hazelcast.getMap(options.mapName());
        this.nodeId = nodeIdOf(hazelcast);
        this.kvSnapshots = new io.tandem.registry.kv.HazelcastKvSnapshotStore(vertx,
                hazelcast.getMap(options.mapName() + "-kv-snapshots"), options.leaseMillis());
    }

    private final io.tandem.registry.kv.KvSnapshotStore kvSnapshots;

    @Override
    public io.tandem.registry.kv.KvSnapshotStore kvSnapshots() {
        return kvSnapshots;
    }

    /** Creates and {@link #start() starts} a registry. */
    public static Future<HazelcastWorkerRegistry> create(Vertx vertx, HazelcastInstance hazelcast, RegistryOptions options) {
        return new HazelcastWorkerRegistry(vertx, hazelcast, options).start();
    }

    /** The node id records registered on this Hazelcast member carry: its member UUID. */
    public static String nodeIdOf(HazelcastInstance hazelcast) {
        return hazelcast.getCluster().getLocalMember().getUuid().toString();
    }

    @Override
    public String nodeId() {
        return nodeId;
    }

    /** Listens to the map and to membership, then loads the records already there. */
    public Future<HazelcastWorkerRegistry> start() {
        return vertx.<Void>executeBlocking(() -> {
            membershipListener = hazelcast.getCluster().addMembershipListener(new Membership());
            entryListener = map.addEntryListener(new Entries(), true);
            for (Map.Entry<String, HazelcastJsonValue> e : map.entrySet()) {
                WorkerRecordJson.Stored s = decode(e.getKey(), e.getValue());
                if (s != null && isMember(s.record().nodeId())) {
                    // wall clocks of two machines only estimate the age; the next heartbeat corrects it
                    long ageNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(0, wallMillis() - s.record().heartbeatMillis()));
                    apply(() -> view.upsert(s.record(), nanoTime(), ageNanos, leaseNanos(s)));
                }
            }
            return null;
        }, false).map(v -> {
            startSweeping();
            return this;
        });
    }

    @Override
    protected Future<Void> publish(WorkerRecord record) {
        HazelcastJsonValue json = new HazelcastJsonValue(WorkerRecordJson.encode(record, options.leaseMillis()));
        return vertx.<Void>executeBlocking(() -> {
            map.set(record.workerId(), json, options.leaseMillis(), TimeUnit.MILLISECONDS);
            return null;
        }, false).andThen(ar -> {
            if (ar.succeeded()) {
                // the entry event will say the same; applying now makes our own writes visible at once
                apply(() -> view.upsert(record, nanoTime(), 0));
            }
        });
    }

    @Override
    protected Future<Void> unpublish(WorkerRecord record) {
        HazelcastJsonValue json = new HazelcastJsonValue(WorkerRecordJson.encode(record, options.leaseMillis()));
        return vertx.<Void>executeBlocking(() -> {
            if (!map.remove(record.workerId(), json)) {
                // our last heartbeat may not have landed; still remove it if the entry is ours
                HazelcastJsonValue current = map.get(record.workerId());
                WorkerRecordJson.Stored s = current == null ? null : decode(record.workerId(), current);
                if (s != null && nodeId.equals(s.record().nodeId())) {
                    map.remove(record.workerId(), current);
                }
            }
            return null;
        }, false).andThen(ar -> apply(() ->
                view.remove(record.workerId(), record.heartbeatMillis(), Cause.DEREGISTERED, nanoTime())));
    }

    @Override
    protected Future<Void> release() {
        UUID entries = entryListener;
        UUID members = membershipListener;
        return vertx.<Void>executeBlocking(() -> {
            if (!hazelcast.getLifecycleService().isRunning()) {
                return null;
            }
            if (entries != null) {
                map.removeEntryListener(entries);
            }
            if (members != null) {
                hazelcast.getCluster().removeMembershipListener(members);
            }
            return null;
        }, false).recover(e -> {
            LOG.log(DEBUG, "releasing registry listeners failed (Hazelcast stopping?): " + e);
            return Future.succeededFuture();
        });
    }

    private boolean isMember(String node) {
        if (node == null) {
            return false;
        }
        for (Member m : hazelcast.getCluster().getMembers()) {
            if (m.getUuid().toString().equals(node)) {
                return true;
            }
        }
        return false;
    }

    /** The lease a record's writer runs with: a reader honours it, so mixed settings do not flap. */
    private long leaseNanos(WorkerRecordJson.Stored s) {
        return TimeUnit.MILLISECONDS.toNanos(s.leaseMillis() > 0 ? s.leaseMillis() : options.leaseMillis());
    }

    private WorkerRecordJson.Stored decode(String key, HazelcastJsonValue value) {
        if (value == null) {
            return null;
        }
        try {
            WorkerRecordJson.Stored s = WorkerRecordJson.decodeStored(value.getValue());
            if (!s.record().workerId().equals(key)) {
                throw new IllegalArgumentException("it is stored under key " + key + " but names worker " + s.record().workerId());
            }
            unreadable.remove(key);
            return s;
        } catch (IllegalArgumentException e) {
            // a worker of another version heartbeats every second: say it once
            LOG.log(unreadable.add(key) ? WARNING : DEBUG, "ignoring unreadable worker record " + key + ": " + e.getMessage());
            return null;
        }
    }

    /** Keeps the view in step with the map. Runs on Hazelcast event threads, ordered per key. */
    private final class Entries implements EntryAddedListener<String, HazelcastJsonValue>,
            EntryUpdatedListener<String, HazelcastJsonValue>, EntryRemovedListener<String, HazelcastJsonValue>,
            EntryExpiredListener<String, HazelcastJsonValue>, EntryEvictedListener<String, HazelcastJsonValue> {

        @Override
        public void entryAdded(EntryEvent<String, HazelcastJsonValue> event) {
            written(event);
        }

        @Override
        public void entryUpdated(EntryEvent<String, HazelcastJsonValue> event) {
            written(event);
        }

        @Override
        public void entryRemoved(EntryEvent<String, HazelcastJsonValue> event) {
            gone(event, Cause.DEREGISTERED);
        }

        @Override
        public void entryExpired(EntryEvent<String, HazelcastJsonValue> event) {
            gone(event, Cause.LEASE_EXPIRED);
        }

        @Override
        public void entryEvicted(EntryEvent<String, HazelcastJsonValue> event) {
            gone(event, Cause.LEASE_EXPIRED);
        }

        private void written(EntryEvent<String, HazelcastJsonValue> event) {
            WorkerRecordJson.Stored s = decode(event.getKey(), event.getValue());
            // a late write of a member that already left must not bring its worker back
            if (s != null && isMember(s.record().nodeId())) {
                apply(() -> view.upsert(s.record(), nanoTime(), 0, leaseNanos(s)));
            }
        }

        private void gone(EntryEvent<String, HazelcastJsonValue> event, Cause cause) {
            HazelcastJsonValue old = event.getOldValue() != null ? event.getOldValue() : event.getValue();
            WorkerRecordJson.Stored s = decode(event.getKey(), old);
            long heartbeat = s == null ? WorkerView.ANY : s.record().heartbeatMillis();
            // the oldest member purges a departed member's records: that removal may arrive before our own
            // membership event, and it is still the member leaving that removed the worker
            Cause why = cause == Cause.DEREGISTERED && s != null && !isMember(s.record().nodeId()) ? Cause.MEMBER_LEFT : cause;
            apply(() -> view.remove(event.getKey(), heartbeat, why, nanoTime()));
            unreadable.remove(event.getKey());
        }
    }

    /** Drops the workers of a member that left, here at once and (from the oldest member) in the map. */
    private final class Membership implements MembershipListener {
        @Override
        public void memberAdded(MembershipEvent event) {
        }

        @Override
        public void memberRemoved(MembershipEvent event) {
            String gone = event.getMember().getUuid().toString();
            apply(() -> view.removeIf(r -> gone.equals(r.nodeId()), Cause.MEMBER_LEFT, nanoTime()));
            List<Member> members = List.copyOf(hazelcast.getCluster().getMembers());
            if (!members.isEmpty() && members.getFirst().localMember()) {
                vertx.executeBlocking(() -> {
                    map.removeAll(Predicates.equal("nodeId", gone));
                    return null;
                }, false).onFailure(e -> LOG.log(DEBUG, "could not purge records of member " + gone + ": " + e));
            }
        }
    }
}
