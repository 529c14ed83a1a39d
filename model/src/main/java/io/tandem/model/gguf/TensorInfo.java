package io.tandem.model.gguf;

import java.util.Arrays;

/**
 * One tensor of a GGUF file. {@code dims} are in ggml order ({@code dims[0]} is the contiguous
 * dimension); {@code offset} is relative to the start of the data section.
 */
public record TensorInfo(String name, GgufTensorType type, long[] dims, long offset, long byteSize,
                         long elementCount) {

    public TensorInfo {
        dims = dims.clone();
    }

    /** Creates the info for a tensor, computing element count and byte size from the dims. */
    public static TensorInfo of(String name, GgufTensorType type, long[] dims, long offset) {
        long n = 1;
        for (long d : dims) n = Math.multiplyExact(n, d);
        return new TensorInfo(name, type, dims, offset, type.byteSize(n), n);
    }

    @Override
    public long[] dims() {
        return dims.clone();
    }

    public int nDims() {
        return dims.length;
    }

    /** Size of dimension {@code i} (ggml ne[i]); 1 beyond the stored dimensions, as in ggml. */
    public long dim(int i) {
        return i < dims.length ? dims[i] : 1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && type == t.type && Arrays.equals(dims, t.dims)
                && offset == t.offset && byteSize == t.byteSize && elementCount == t.elementCount;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims) + " @" + offset;
    }
}
