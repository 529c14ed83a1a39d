package io.tandem.engine.kernels;

import io.tandem.model.gguf.GgufFile;
import io.tandem.model.gguf.GgufTensorType;
import io.tandem.model.gguf.TensorInfo;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Set;

/**
 * A weight matrix of {@code rows} rows of {@code cols} values, kept in its ggml encoding inside a memory-mapped
 * GGUF file (never copied to the heap). Row {@code r} starts at byte {@code r * rowBytes}. A 1-D tensor is one row.
 * In ggml order a linear weight {@code [in, out]} has {@code cols = in, rows = out} and computes {@code y = W x}.
 */
public record WeightMatrix(String name, GgufTensorType type, int rows, int cols, long rowBytes, MemorySegment data)
        implements LinearWeight {

    public static final Set<GgufTensorType> SUPPORTED_TYPES = Set.of(GgufTensorType.F32, GgufTensorType.F16,
            GgufTensorType.BF16, GgufTensorType.Q8_0, GgufTensorType.Q4_0);

    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public WeightMatrix {
        if (!SUPPORTED_TYPES.contains(type)) throw new UnsupportedTensorTypeException(name, type);
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("tensor '" + name + "' has an empty shape");
        if (cols % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': row length " + cols
                    + " is not a multiple of the " + type + " block size " + type.blockSize());
        }
        if (rowBytes != type.byteSize(cols) || data.byteSize() != rowBytes * rows) {
            throw new IllegalArgumentException("tensor '" + name + "': " + data.byteSize() + " bytes do not hold "
                    + rows + " x " + cols + " " + type + " values");
        }
    }

    /** The 2-D (or 1-D) tensor {@code name} of a GGUF file; higher dimensions must be 1. */
    public static WeightMatrix of(GgufFile file, String name) {
        return of(file, file.tensor(name));
    }

    public static WeightMatrix of(GgufFile file, TensorInfo t) {
        if (!SUPPORTED_TYPES.contains(t.type())) throw new UnsupportedTensorTypeException(t.name(), t.type());
        for (int i = 2; i < t.nDims(); i++) {
            if (t.dim(i) != 1) throw new IllegalArgumentException("tensor '" + t.name() + "' has more than 2 dimensions");
        }
        long cols = t.dim(0), rows = t.dim(1);
        if (cols > Integer.MAX_VALUE || rows > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' is too large");
        }
        return new WeightMatrix(t.name(), t.type(), (int) rows, (int) cols, t.type().byteSize(cols),
                file.tensorData(t));
    }

    @Override
    public WeightMatrix source() {
        return this;
    }

    /** Bytes of weights read by one full multiplication. */
    public long byteSize() {
        return data.byteSize();
    }

    /** Number of values. */
    public long elementCount() {
        return (long) rows * cols;
    }

    /** One value, decoded (slow; for tests and small vectors). */
    public float get(int row, int col) {
        long base = row * rowBytes;
        return switch (type) {
            case F32 -> data.get(FLOAT_LE, base + 4L * col);
            case F16 -> Float.float16ToFloat(data.get(SHORT_LE, base + 2L * col));
            case BF16 -> Float.intBitsToFloat((data.get(SHORT_LE, base + 2L * col) & 0xffff) << 16);
            case Q8_0 -> {
                long block = base + (col / 32) * 34L;
                yield Float.float16ToFloat(data.get(SHORT_LE, block)) * data.get(ValueLayout.JAVA_BYTE, block + 2 + col % 32);
            }
            case Q4_0 -> {
                long block = base + (col / 32) * 18L;
                int j = col % 32;
                int b = data.get(ValueLayout.JAVA_BYTE, block + 2 + j % 16) & 0xff;
                int q = j < 16 ? b & 0xf : b >>> 4;
                yield Float.float16ToFloat(data.get(SHORT_LE, block)) * (q - 8);
            }
            default -> throw new AssertionError(type);
        };
    }

    /** A 1-D tensor (or one row) decoded to a new float array: for norms and biases, which are small. */
    public float[] toFloatArray() {
        float[] out = new float[Math.multiplyExact(rows, cols)];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) out[r * cols + c] = get(r, c);
        }
        return out;
    }

    @Override
    public String toString() {
        return "WeightMatrix[" + name + " " + type + " " + rows + "x" + cols + "]";
    }
}
