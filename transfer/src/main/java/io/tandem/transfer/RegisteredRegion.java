package io.tandem.transfer;

import java.lang.foreign.MemorySegment;

/**
 * Memory an agent allocated and registered with its backends: peers address it as region {@code id}. Valid until the
 * agent closes. {@code path} is the backing file for shared-memory peers ({@code null} when the memory is anonymous).
 */
public record RegisteredRegion(int id, String label, MemorySegment memory, String path) {
    public long size() {
        return memory.byteSize();
    }

    public RegionInfo info() {
        return new RegionInfo(id, label, memory.byteSize(), path);
    }
}
