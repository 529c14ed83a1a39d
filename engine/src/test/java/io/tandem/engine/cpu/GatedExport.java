package io.tandem.engine.cpu;

import io.tandem.engine.remote.KvExport;
import io.tandem.engine.remote.SendStatus;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * A KV export whose sends settle when the test says so ({@link #complete}, {@link #fail}) — a decode peer that stalls
 * its reads for as long as the test likes. It records what the engine asked of it. Thread-safe: tests of the threaded
 * engine settle it from the test thread.
 */
final class GatedExport implements KvExport {
    /** Counted down when the engine calls {@link #finishSends} or {@link #cancel}. */
    final CountDownLatch sealedLatch = new CountDownLatch(1);
    private final List<int[]> postedTables = new ArrayList<>();
    private final boolean settleAtOnce;
    private Runnable wakeup;
    private boolean finished, cancelled;
    private int postsAfterCancel;
    private SendStatus outcome;

    /** @param settleAtOnce sends are done as soon as they are finished or cancelled (a fast peer) */
    GatedExport(boolean settleAtOnce) {
        this.settleAtOnce = settleAtOnce;
    }

    /** A stalled peer: nothing settles until the test says so. */
    GatedExport() {
        this(false);
    }

    @Override
    public synchronized void onSettled(Runnable wakeup) {
        if (this.wakeup != null) throw new AssertionError("onSettled registered twice");
        this.wakeup = wakeup;
    }

    @Override
    public synchronized void layerStored(int layer, int[] blockTable, int computedTokens) {
        if (finished) throw new AssertionError("layer stored after finishSends");
        if (cancelled) postsAfterCancel++;
        postedTables.add(blockTable.clone());
    }

    @Override
    public void finishSends() {
        synchronized (this) {
            if (finished) throw new AssertionError("finishSends called twice");
            finished = true;
        }
        onSealed();
    }

    @Override
    public void cancel() {
        synchronized (this) {
            cancelled = true;
        }
        onSealed();
    }

    private void onSealed() {
        sealedLatch.countDown();
        if (settleAtOnce) complete();
    }

    @Override
    public synchronized SendStatus poll() {
        if (!finished && !cancelled) return SendStatus.PENDING;
        return outcome == null ? SendStatus.PENDING : outcome;
    }

    /** Every send arrived; wakes the engine. */
    void complete() {
        settle(SendStatus.DONE);
    }

    /** A send failed; wakes the engine. */
    void fail(String reason) {
        settle(new SendStatus.Failed(reason));
    }

    private void settle(SendStatus status) {
        Runnable w;
        synchronized (this) {
            if (outcome != null) return;
            outcome = status;
            w = wakeup;
        }
        w.run();
    }

    synchronized boolean settled() {
        return outcome != null;
    }

    synchronized boolean finished() {
        return finished;
    }

    synchronized boolean cancelled() {
        return cancelled;
    }

    /** Whether the engine has finished or cancelled the sends (so they can settle). */
    synchronized boolean sealed() {
        return finished || cancelled;
    }

    synchronized int postsAfterCancel() {
        return postsAfterCancel;
    }

    /** The block table of every layer report, in order. */
    synchronized List<int[]> postedTables() {
        return List.copyOf(postedTables);
    }
}
