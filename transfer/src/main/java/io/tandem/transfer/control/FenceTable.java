package io.tandem.transfer.control;

import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.WriteFences;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * The grants of an agent's fencing tokens and the writes in flight under each; the control connections consult it
 * before a byte lands. Pure bookkeeping, no I/O. Thread-safe: the table's map under its own lock, each grant under
 * its own; futures complete outside both.
 */
public final class FenceTable implements WriteFences {
    private final Map<Long, Grant> grants = new HashMap<>();
    private final LongAdder fenced = new LongAdder();

    /** One token's ranges, and how many writes of it are in flight (tcp frames being copied, held leases). */
    public static final class Grant {
        private final long token;
        private final Map<Integer, TreeMap<Long, Long>> ranges = new HashMap<>();
        private final CompletableFuture<Void> drained = new CompletableFuture<>();
        private boolean revoked;
        private int active;

        Grant(long token) {
            this.token = token;
        }

        public long token() {
            return token;
        }

        /** Pins the token for one write, unless it was revoked meanwhile. */
        public boolean enter() {
            synchronized (this) {
                if (revoked) return false;
                active++;
                return true;
            }
        }

        /** Pins the token when it covers every descriptor and is not revoked. */
        boolean enter(List<MemoryDescriptor> targets) {
            synchronized (this) {
                if (revoked) return false;
                for (MemoryDescriptor d : targets) if (!coversLocked(d.region(), d.offset(), d.length())) return false;
                active++;
                return true;
            }
        }

        /** The write that {@link #enter}ed is over (landed, or was dropped). */
        public void exit() {
            boolean done;
            synchronized (this) {
                active--;
                done = revoked && active == 0;
            }
            if (done) drained.complete(null);
        }

        boolean covers(int region, long offset, long length) {
            synchronized (this) {
                return !revoked && coversLocked(region, offset, length);
            }
        }

        private boolean coversLocked(int region, long offset, long length) {
            TreeMap<Long, Long> r = ranges.get(region);
            if (r == null) return false;
            Map.Entry<Long, Long> e = r.floorEntry(offset);
            return e != null && e.getValue() >= offset + length;
        }

        private synchronized void add(MemoryDescriptor d) {
            TreeMap<Long, Long> r = ranges.computeIfAbsent(d.region(), k -> new TreeMap<>());
            long start = d.offset(), end = d.end();
            // merge with every range that overlaps or touches [start, end)
            Map.Entry<Long, Long> before = r.floorEntry(start);
            if (before != null && before.getValue() >= start) {
                start = before.getKey();
                end = Math.max(end, before.getValue());
            }
            for (Map.Entry<Long, Long> e = r.ceilingEntry(start); e != null && e.getKey() <= end; e = r.ceilingEntry(start)) {
                end = Math.max(end, e.getValue());
                r.remove(e.getKey());
            }
            r.put(start, end);
        }

        private CompletableFuture<Void> revoke() {
            boolean done;
            synchronized (this) {
                revoked = true;
                done = active == 0;
            }
            if (done) drained.complete(null);
            return drained;
        }
    }

    @Override
    public void grant(long token, List<MemoryDescriptor> localRanges) {
        if (token == 0) throw new IllegalArgumentException("fence token 0 means unfenced and cannot be granted");
        Grant g;
        synchronized (grants) {
            g = grants.computeIfAbsent(token, Grant::new);
        }
        for (MemoryDescriptor d : localRanges) g.add(d);
    }

    @Override
    public CompletableFuture<Void> revoke(long token) {
        Grant g;
        synchronized (grants) {
            g = grants.remove(token);
        }
        return g == null ? CompletableFuture.completedFuture(null) : g.revoke();
    }

    @Override
    public long fenced() {
        return fenced.sum();
    }

    /** One write was dropped. */
    public void countFenced() {
        fenced.increment();
    }

    /** The grant of {@code token} when it covers the range now, else {@code null}. Does not pin it. */
    public Grant admit(long token, int region, long offset, long length) {
        Grant g = grant(token);
        return g != null && g.covers(region, offset, length) ? g : null;
    }

    /** The grant of {@code token}, pinned for one write, when it covers every target; else {@code null}. */
    public Grant lease(long token, List<MemoryDescriptor> targets) {
        Grant g = grant(token);
        return g != null && g.enter(targets) ? g : null;
    }

    private Grant grant(long token) {
        synchronized (grants) {
            return grants.get(token);
        }
    }

    /** Why a write of {@code token} to these bytes is refused, for the ERROR the writer gets. */
    public static String refusal(long token, int region, long offset, long length) {
        return "write refused by fence: token " + Long.toUnsignedString(token, 16) + " is not granted for region " + region
                + " bytes [" + offset + ", " + (offset + length) + ") (never granted, revoked, or another range)";
    }
}
