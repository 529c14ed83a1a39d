package io.tandem.worker.disagg;

import io.tandem.engine.kv.KvCache;
import io.tandem.engine.kv.KvMemoryAllocator.Kind;
import io.tandem.engine.remote.KvExport;
import io.tandem.engine.remote.LayerwiseExportPlan;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.TransferAgent;
import io.tandem.transfer.TransferHandle;
import io.tandem.transfer.TransferOp;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Sends one remote prefill's KV to the decode worker as the engine computes it: when a layer is stored, one WRITE per
 * layer (or, with layer-wise transfer off, all of them after the last layer) carries that layer's newly filled blocks, K and V, from the local arenas straight into the decode worker's
 * blocks (contiguous runs merged into one descriptor). Posting never waits; {@link #awaitTransfers} does, before the
 * engine releases the blocks the writes read from. A cancel stops further posts.
 */
final class TransferKvExport implements KvExport {
    private final LayerwiseExportPlan plan;
    private final TransferAgent agent;
    private final KvCache cache;
    private final RegisteredKvMemory localRegions;
    private final PeerDirectory.Peer peer;
    private final long timeoutMillis;
    private final TransferMetrics metrics;
    private final List<CompletableFuture<Void>> posted = new ArrayList<>();
    private volatile boolean cancelled;
    private final boolean layerwise;
    private final int layers;
    private boolean waited;
    private long bytes;
    /** Without layer-wise transfer: what each forward pass stored, sent once the pass (and sampling) is over. */
    private final List<Held> held = new ArrayList<>();

    private record Held(int[] blockTable, int computedTokens) {
    }

    TransferKvExport(LayerwiseExportPlan plan, TransferAgent agent, KvCache cache, RegisteredKvMemory localRegions,
                     PeerDirectory.Peer peer, long timeoutMillis, boolean layerwise, TransferMetrics metrics) {
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
    public void layerStored(int layer, int[] blockTable, int computedTokens) {
        if (layerwise) post(layer, blockTable, computedTokens);
        else if (layer == layers - 1) held.add(new Held(blockTable.clone(), computedTokens)); // sent after the forward pass
    }

    private void postHeld() {
        for (Held h : held) {
            for (int l = 0; l < layers; l++) post(l, h.blockTable(), h.computedTokens());
        }
        held.clear();
    }

    private void post(int layer, int[] blockTable, int computedTokens) {
        List<LayerwiseExportPlan.BlockPair> blocks = plan.ready(layer, blockTable, computedTokens);
        if (blocks.isEmpty() || cancelled) return;
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
        TransferHandle h = agent.post(TransferOp.WRITE, local, peer.bootstrap().agent().agent(), dst, null);
        bytes += h.bytes();
        posted.add(h.completion().whenComplete((v, e) -> {
            if (e == null) metrics.transferred(h.backend(), h.bytes(), System.nanoTime() - started);
        }));
    }

    @Override
    public void awaitTransfers() throws Exception {
        if (!cancelled) postHeld();
        CompletableFuture<Void> all = CompletableFuture.allOf(posted.toArray(CompletableFuture[]::new));
        long started = System.nanoTime();
        try {
            all.get(timeoutMillis, TimeUnit.MILLISECONDS);
            if (!waited && plan.complete()) {
                waited = true; // the first wait after the whole prompt: the transfer time the first token sees
                metrics.exposed(System.nanoTime() - started);
            }
        } catch (TimeoutException e) {
            throw new TimeoutException("KV transfer to " + peer.bootstrap().workerId() + " not done after " + timeoutMillis + " ms");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("KV transfer to " + peer.bootstrap().workerId() + " failed: " + e.getCause().getMessage(), e.getCause());
        }
        if (cancelled) throw new IllegalStateException("cancelled");
    }

    void cancel() {
        cancelled = true;
    }

    long bytes() {
        return bytes;
    }
}
