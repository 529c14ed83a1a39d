package io.tandem.model.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * A GGUF file (versions 2 and 3), memory-mapped read-only through FFM. The header and metadata are
 * parsed into the heap; tensor data stays in the mapping and {@link #tensorData} returns slices of it.
 * Safe to read from many threads; {@link #close()} unmaps the file, after which slices must not be used.
 */
public final class GgufFile implements AutoCloseable {
    private final Path path;
    private final Arena arena; // null when the caller owns the memory
    private final MemorySegment segment;
    private final GgufParser.Header header;
    private final Map<String, TensorInfo> byName;

    private GgufFile(Path path, Arena arena, MemorySegment segment, GgufParser.Header header) {
        this.path = path;
        this.arena = arena;
        this.segment = segment;
        this.header = header;
        Map<String, TensorInfo> m = new HashMap<>();
        for (TensorInfo t : header.tensors()) m.put(t.name(), t);
        this.byName = Map.copyOf(m);
    }

    /** Maps and parses the file; throws {@link GgufFormatException} when it is not a valid GGUF file. */
    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new GgufFile(path, arena, seg, GgufParser.parse(seg));
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** Parses a GGUF image already in memory (e.g. a heap segment); the caller keeps ownership of it. */
    public static GgufFile parse(MemorySegment segment) throws GgufFormatException {
        return new GgufFile(null, null, segment, GgufParser.parse(segment));
    }

    /** The file this was opened from, or null for {@link #parse(MemorySegment)}. */
    public Path path() {
        return path;
    }

    public int version() {
        return header.version();
    }

    public GgufMetadata metadata() {
        return header.metadata();
    }

    /**
     * The bytes of a metadata entry's type id and value exactly as the file encodes them (GGUF's little-endian
     * encoding, the same whatever the version): a read-only slice of the mapping, valid until {@link #close()}.
     *
     * @throws NoSuchElementException when the file has no such key
     */
    public MemorySegment encodedValue(String key) {
        long[] span = header.encodedValues().get(key);
        if (span == null) throw new NoSuchElementException("no metadata key '" + key + "' in " + describe());
        return segment.asSlice(span[0], span[1] - span[0]).asReadOnly();
    }

    /** Tensor infos in file order. */
    public List<TensorInfo> tensors() {
        return header.tensors();
    }

    /** The tensor with this name; throws {@link NoSuchElementException} when the file has none. */
    public TensorInfo tensor(String name) {
        TensorInfo t = byName.get(name);
        if (t == null) throw new NoSuchElementException("no tensor '" + name + "' in " + describe());
        return t;
    }

    public Optional<TensorInfo> findTensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public boolean hasTensor(String name) {
        return byName.containsKey(name);
    }

    /** The tensor's bytes: a read-only slice of the mapping, valid until {@link #close()}. */
    public MemorySegment tensorData(TensorInfo t) {
        return segment.asSlice(header.dataOffset() + t.offset(), t.byteSize()).asReadOnly();
    }

    /** Byte alignment of tensor data ({@code general.alignment}, default 32). */
    public int alignment() {
        return header.alignment();
    }

    /** File offset where the tensor data section starts. */
    public long dataOffset() {
        return header.dataOffset();
    }

    /** Size of the whole file in bytes. */
    public long size() {
        return segment.byteSize();
    }

    @Override
    public synchronized void close() {
        if (arena != null && arena.scope().isAlive()) arena.close();
    }

    private String describe() {
        return path != null ? path.toString() : "GGUF image";
    }

    @Override
    public String toString() {
        return "GgufFile[" + describe() + ", v" + version() + ", " + metadata().size() + " keys, "
                + tensors().size() + " tensors]";
    }
}
