package io.tandem.engine.kv;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * KV arenas from {@code calloc}, freed with {@code free} on close. Zeroed lazily by the kernel (large callocs are
 * fresh anonymous mappings), so allocating a large cache does not touch its pages.
 */
final class NativeHeapAllocator implements KvMemoryAllocator {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle CALLOC = LINKER.downcallHandle(LINKER.defaultLookup().find("calloc").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
    private static final MethodHandle FREE = LINKER.downcallHandle(LINKER.defaultLookup().find("free").orElseThrow(),
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));

    private final List<MemorySegment> raw = new ArrayList<>();
    private final Arena scope = Arena.ofShared();

    @Override
    public synchronized MemorySegment allocate(int layer, Kind kind, long byteSize, long alignment) {
        if (byteSize < 0 || alignment < 1 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("bad allocation: " + byteSize + " bytes aligned to " + alignment);
        }
        MemorySegment p;
        try {
            p = (MemorySegment) CALLOC.invokeExact(byteSize + alignment, 1L);
        } catch (Throwable t) {
            throw new IllegalStateException("calloc failed", t);
        }
        if (p.address() == 0) throw new OutOfMemoryError("cannot allocate " + byteSize + " bytes of KV cache memory");
        raw.add(p);
        long aligned = (p.address() + alignment - 1) & -alignment;
        // reinterpreted into a scope that close() ends, so no segment outlives its memory
        return MemorySegment.ofAddress(aligned).reinterpret(byteSize, scope, null);
    }

    @Override
    public synchronized void close() {
        if (!scope.scope().isAlive()) return;
        scope.close();
        for (MemorySegment p : raw) {
            try {
                FREE.invokeExact(p);
            } catch (Throwable t) {
                throw new IllegalStateException("free failed", t);
            }
        }
        raw.clear();
    }
}
