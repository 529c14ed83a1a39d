package io.tandem.engine.kv;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Where KV arenas come from. The default allocates plain off-heap memory; the transfer layer supplies memory that is
 * registered with its backend (a mapped {@code /dev/shm} file, {@code ucp_mem_map}, ...), so peers can read and
 * write blocks in place. The allocator owns what it hands out and frees it on {@link #close()}.
 */
public interface KvMemoryAllocator extends AutoCloseable {

    /** Which arena is being allocated: the K or V arena of one layer. */
    enum Kind { KEYS, VALUES }

    /**
     * A zero-filled or garbage-filled native segment of exactly {@code byteSize} bytes aligned to at least
     * {@code alignment}, valid until {@link #close()} and accessible from any thread.
     */
    MemorySegment allocate(int layer, Kind kind, long byteSize, long alignment);

    /** Frees everything allocated. */
    @Override
    void close();

    /**
     * Plain off-heap memory from the C heap's {@code calloc}: large blocks come as fresh zero pages the kernel
     * supplies on first touch, so a big cache costs nothing until used (an {@code Arena} would zero every byte up
     * front, hundreds of milliseconds for a large cache).
     */
    static KvMemoryAllocator offHeap() {
        return new NativeHeapAllocator();
    }
}
