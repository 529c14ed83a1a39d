package io.tandem.worker.disagg;

import io.tandem.engine.kv.KvMemoryAllocator;
import io.tandem.transfer.RegisteredRegion;
import io.tandem.transfer.TransferAgent;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * KV arenas allocated through the worker's transfer agent, so every block is registered memory a peer can write in
 * place. Remembers which agent region holds which layer's K or V arena. The agent owns and frees the memory (after
 * the engine closed), so {@link #close()} frees nothing.
 */
public final class RegisteredKvMemory implements KvMemoryAllocator {
    private final TransferAgent agent;
    private final Map<Integer, int[]> regions = new HashMap<>();

    public RegisteredKvMemory(TransferAgent agent) {
        this.agent = agent;
    }

    @Override
    public synchronized MemorySegment allocate(int layer, Kind kind, long byteSize, long alignment) {
        RegisteredRegion r = agent.register("L" + layer + (kind == Kind.KEYS ? "K" : "V"), byteSize);
        if (r.memory().address() % alignment != 0) {
            throw new IllegalStateException("transfer agent returned memory aligned to less than " + alignment + " bytes");
        }
        regions.computeIfAbsent(layer, l -> new int[] {-1, -1})[kind.ordinal()] = r.id();
        return r.memory();
    }

    /** The agent region id of a layer's K ({@code kind = KEYS}) or V arena. */
    public synchronized int region(int layer, Kind kind) {
        int[] ids = regions.get(layer);
        if (ids == null || ids[kind.ordinal()] < 0) throw new IllegalArgumentException("no " + kind + " arena for layer " + layer);
        return ids[kind.ordinal()];
    }

    /** Region ids by layer: {@code [layer][0]} keys, {@code [layer][1]} values. */
    public synchronized int[][] regionTable() {
        int[][] out = new int[regions.size()][];
        for (int l = 0; l < out.length; l++) out[l] = regions.get(l).clone();
        return out;
    }

    @Override
    public void close() {
        // the agent frees registered memory when it closes, after the engine
    }
}
