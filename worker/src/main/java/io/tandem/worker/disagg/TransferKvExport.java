package io.tandem.worker.disagg;

import io.tandem.worker.tracing.PrefillTrace;

import io.tandem.engine.kv.KvArenas;
import io.tandem.engine.kv.KvMemoryAllocator.Kind;
import io.tandem.engine.remote.KvExport;
import io.tandem.engine.remote.LayerwiseExportPlan;
import io.tandem.engine.remote.SendStatus;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.TransferAgent;
import io.tandem.transfer.TransferHandle;
import io.tandem.transfer.TransferOp;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends one remote prefill's KV to the decode worker as the engine computes it: when a layer is stored, one WRITE per
 * layer (or, with layer-wise transfer off, all of them after the last forward pass) carries that layer's newly filled
 * blocks, K and V, from the local arenas straight into the decode worker's blocks (contiguous runs merged into one
 * descriptor). Nothing here waits: {@link #poll} reports the posted WRITEs' completion futures, and when they have all
 * settled the engine is woken through the callback it registered. The prefill timeout bounds the sends, counted from
 * {@link #finishSends} (or the first poll after a cancel): past it the export reports them failed, and the engine
 * releases the blocks even if the agent has not failed a WRITE yet (the agent's own timeout, the same length but
 * counted from each post, normally fails it first). A cancel, from any thread, or a failed WRITE stops further posts.
 */
final class TransferKvExport implements KvExport {
    private final LayerwiseExportPlan plan;
    private final TransferAgent agent;
    private final KvArenas cache;
    private final RegisteredKvMemory localRegions;
    private final PeerDirectory.Peer peer;
    /** The decode worker's fencing token of the reservation: its agent drops writes once the token no longer owns the blocks. */
    private final long fence;
    private final long timeoutMillis;
    private final TransferMetrics metrics;
    /** Null unless traced. */
    private final PrefillTrace trace;
    private final boolean layerwise;
    private final int layers;
    /** Engine thread only, like everything below but {@link #cancelled} and {@link #bytes}. */
    private final List<CompletableFuture<Void>> posted = new ArrayList<>();
    /** Every posted WRITE settled, or the timeout passed; null until the sends are finished or cancelled. */
    private CompletableFuture<Void> settled;
    private Runnable wakeup = () -> { };
    private volatile boolean cancelled;
    private volatile long bytes;
    /** Without layer-wise transfer: what each forward pass stored, sent once the pass (and sampling) is over. */
    private final List<Held> held = new ArrayList<>();

    private record Held(int[] blockTable, int computedTokens) {
    }

    TransferKvExport(LayerwiseExportPlan plan, TransferAgent agent, KvArenas cache, RegisteredKvMemory localRegions,
                     PeerDirectory.Peer peer, long fence, long timeoutMillis, boolean layerwise, TransferMetrics metrics,
                     PrefillTrace trace) {
        this.trace = trace;
        this.fence = fence;
        this.layerwise = layerwise;
        this.layers = cache.layout().layers();
        this.plan = plan;
        this.agent = agent;
        this.cache = cache;
        this.localRegions = localRegions;
        this.peer = peer;
        this.timeoutMillis = timeoutMillis;
        this.metrics = metrics;
    }

    @Override
    public void onSettled(Runnable wakeup) {
        this.wakeup = wakeup;
    }

    @Override
    public void layerStored(int layer, int[] blockTable, int computedTokens) {
        if (layerwise) post(layer, blockTable, computedTokens);
        else if (layer == layers - 1) held.add(new Held(blockTable.clone(), computedTokens)); // sent after the forward pass
    }

    @Override
    public void finishSends() {
        if (!cancelled) {
            for (Held h : held) {
                for (int l = 0; l < layers; l++) post(l, h.blockTable(), h.computedTokens());
            }
        }
        held.clear();
        watch();
    }

    /** Stops further posts; any thread (a decode worker's cancel arrives on the event loop). */
    @Override
    public void cancel() {
        cancelled = true;
    }

    @Override
    public SendStatus poll() {
        if (settled == null) {
            if (!cancelled) return SendStatus.PENDING;
            watch();
        }
        if (!settled.isDone()) return SendStatus.PENDING;
        try {
            settled.join();
            return SendStatus.DONE;
        } catch (CompletionException | CancellationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (cause instanceof TimeoutException) {
                return new SendStatus.Failed("KV transfer to " + peerId() + " not done after " + timeoutMillis + " ms");
            }
            return new SendStatus.Failed("KV transfer to " + peerId() + " failed: " + cause.getMessage());
        }
    }

    /** From now on no WRITE is posted: watch the posted ones settle, bounded by the timeout, and wake the engine. */
    private void watch() {
        if (settled != null) return;
        long started = System.nanoTime();
        boolean whole = !cancelled && plan.complete(); // the transfer time the first token sees, once all was sent
        settled = CompletableFuture.allOf(posted.toArray(CompletableFuture[]::new))
                .orTimeout(timeoutMillis, TimeUnit.MILLISECONDS);
        settled.whenComplete((v, e) -> {
            if (e == null && whole) metrics.exposed(System.nanoTime() - started);
            wakeup.run();
        });
    }

    private void post(int layer, int[] blockTable, int computedTokens) {
        List<LayerwiseExportPlan.BlockPair> blocks = plan.ready(layer, blockTable, computedTokens);
        if (blocks.isEmpty() || cancelled) return;
        try {
            long blockBytes = cache.layout().blockBytes();
            int[] remote = peer.bootstrap().regions()[layer];
            List<MemoryDescriptor> local = new ArrayList<>(), dst = new ArrayList<>();
            for (Kind kind : Kind.values()) {
                int localRegion = localRegions.region(layer, kind), remoteRegion = remote[kind.ordinal()];
                int i = 0;
                while (i < blocks.size()) { // merge runs consecutive on both sides into one descriptor
                    int j = i + 1;
                    while (j < blocks.size() && blocks.get(j).localBlock() == blocks.get(j - 1).localBlock() + 1
                            && blocks.get(j).remoteBlock() == blocks.get(j - 1).remoteBlock() + 1) j++;
                    long length = (j - i) * blockBytes;
                    local.add(new MemoryDescriptor(localRegion, blocks.get(i).localBlock() * blockBytes, length));
                    dst.add(new MemoryDescriptor(remoteRegion, blocks.get(i).remoteBlock() * blockBytes, length));
                    i = j;
                }
            }
            long started = System.nanoTime();
            TransferHandle h = agent.post(TransferOp.WRITE, local, peer.bootstrap().agent().agent(), dst, null, fence);
            bytes += h.bytes();
            posted.add(h.completion().whenComplete((v, e) -> {
                if (e == null) metrics.transferred(h.backend(), h.bytes(), System.nanoTime() - started);
                else cancelled = true; // the request fails anyway: send nothing more
                if (trace != null) trace.transferred(layer, h.backend(), h.bytes(), started, e);
            }));
        } catch (RuntimeException e) { // the forward pass goes on; the failure is this request's, reported by poll()
            cancelled = true;
            posted.add(CompletableFuture.failedFuture(e));
        }
    }

    private String peerId() {
        return peer.bootstrap().workerId();
    }

    long bytes() {
        return bytes;
    }
}
