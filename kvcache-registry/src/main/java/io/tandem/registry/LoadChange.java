package io.tandem.registry;

import io.tandem.protocol.WorkerLoad;

/** When a load report is worth publishing before the next heartbeat. */
final class LoadChange {
    private LoadChange() {}

    /**
     * True when routers would decide differently: the worker started draining (routers skip it at once), went from
     * idle to busy or back,
     * its queue (running + waiting) moved by at least a quarter (and at least 2), or its
     * active KV blocks moved by at least a tenth of its pool.
     */
    static boolean isLarge(WorkerLoad published, WorkerLoad now) {
        if (published == null || published.draining() != now.draining()) {
            return true;
        }
        int before = published.runningRequests() + published.waitingRequests();
        int after = now.runningRequests() + now.waitingRequests();
        if ((before == 0) != (after == 0)) {
            return true;
        }
        if (Math.abs(after - before) >= Math.max(2, before / 4)) {
            return true;
        }
        int pool = Math.max(published.totalBlocks(), now.totalBlocks());
        return pool > 0 && Math.abs(now.activeBlocks() - published.activeBlocks()) * 10L >= pool;
    }
}
