package io.tandem.transfer.ucx;

import io.tandem.transfer.TransferException;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One transfer in flight on the progress thread: its put/get requests, then (for WRITE) a flush of the endpoint so
 * completion means the bytes are in the peer's memory. Polled by the progress loop; fails at its deadline.
 */
final class UcxTransfer {
    /** One put or get: a local slice and where it goes in the peer's memory. */
    record Op(MemorySegment local, long remoteAddress, MemorySegment rkey) {
    }

    final UcxPeer peer;
    final CompletableFuture<Void> future = new CompletableFuture<>();
    private final MemorySegment ep;
    private final boolean write;
    private final long deadlineNanos;
    private final MemorySegment requestParam;
    private final List<MemorySegment> pending = new ArrayList<>();
    private boolean flushing;
    private String error;

    UcxTransfer(UcxPeer peer, boolean write, long deadlineNanos, MemorySegment requestParam) {
        this.peer = peer;
        this.ep = peer.ep();
        this.write = write;
        this.deadlineNanos = deadlineNanos;
        this.requestParam = requestParam;
    }

    /** Posts every op; stops at the first that fails to post (the posted ones are still awaited and freed). */
    void start(List<Op> ops) {
        peer.active++;
        for (Op op : ops) {
            try {
                MemorySegment req = write
                        ? (MemorySegment) Ucp.putNbx.invokeExact(ep, op.local(), op.local().byteSize(), op.remoteAddress(), op.rkey(), requestParam)
                        : (MemorySegment) Ucp.getNbx.invokeExact(ep, op.local(), op.local().byteSize(), op.remoteAddress(), op.rkey(), requestParam);
                track(req, write ? "ucp_put_nbx" : "ucp_get_nbx");
            } catch (Throwable t) {
                throw Ucp.rethrow(t);
            }
            if (error != null) break;
        }
    }

    private void track(MemorySegment request, String what) {
        if (request.address() == 0) return; // completed in place
        if (Ucp.isError(request)) {
            if (error == null) error = what + " failed: " + Ucp.describe(Ucp.errorOf(request));
        } else {
            pending.add(request);
        }
    }

    /** Advances the transfer; true once it completed or failed (and holds no request any more). */
    boolean poll(long nowNanos) {
        try {
            for (Iterator<MemorySegment> it = pending.iterator(); it.hasNext(); ) {
                MemorySegment req = it.next();
                byte status = (byte) Ucp.requestCheckStatus.invokeExact(req);
                if (status == Ucp.UCS_INPROGRESS) continue;
                Ucp.requestFree.invokeExact(req);
                it.remove();
                if (status != Ucp.UCS_OK && error == null) {
                    error = (flushing ? "ucp_ep_flush_nbx" : write ? "ucp_put_nbx" : "ucp_get_nbx") + " failed: " + Ucp.describe(status);
                }
            }
            if (!pending.isEmpty()) {
                if (nowNanos - deadlineNanos > 0) {
                    abort("UCX transfer to " + peer.name + " timed out");
                    return true;
                }
                return false;
            }
            if (error == null && write && !flushing) {
                flushing = true;
                track((MemorySegment) Ucp.epFlushNbx.invokeExact(ep, requestParam), "ucp_ep_flush_nbx");
                return poll(nowNanos);
            }
        } catch (Throwable t) {
            abort("UCX transfer failed: " + t);
            return true;
        }
        peer.active--;
        if (error == null) future.complete(null);
        else future.completeExceptionally(new TransferException("UCX transfer with " + peer.name + ": " + error));
        return true;
    }

    /**
     * Fails the transfer now. Its requests are freed (UCX releases one still in flight when it finishes); if some were
     * still in flight the peer is marked so that closing its endpoint cancels them (force) before its rkeys go.
     */
    void abort(String reason) {
        try {
            for (MemorySegment req : pending) {
                if ((byte) Ucp.requestCheckStatus.invokeExact(req) == Ucp.UCS_INPROGRESS) peer.abandonedRequests = true;
                Ucp.requestFree.invokeExact(req);
            }
        } catch (Throwable t) {
            throw Ucp.rethrow(t);
        }
        pending.clear();
        peer.active--;
        future.completeExceptionally(new TransferException(reason));
    }
}
