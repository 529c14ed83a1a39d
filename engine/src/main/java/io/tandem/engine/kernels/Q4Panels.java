package io.tandem.engine.kernels;

import io.tandem.model.gguf.GgufTensorType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.tandem.engine.kernels.WeightMatrix.SHORT_LE;

/**
 * A Q4_0 weight matrix repacked at load into panels of {@code panelRows} rows, so that one vector load reads the
 * same column of every row of a panel (rows in lanes: a matrix-vector product then needs no horizontal sums).
 *
 * <p>Block {@code k} of panel {@code p} ({@code pk = p * blocks + k}, columns {@code 32k .. 32k+31}) has its
 * {@code panelRows} scales at {@code scales[pk * panelRows ..]} (decoded from IEEE half, exactly) and, for
 * {@code j = 0 .. 15}, the {@code panelRows} bytes {@code j} of the rows' ggml blocks at
 * {@code quants[(pk * 16 + j) * panelRows ..]}: low nibble column {@code 32k + j}, high nibble column
 * {@code 32k + 16 + j}, each an unsigned {@code q} standing for {@code d * (q - 8)}. Rows past {@code rows} are
 * padding (scale 0). The panels live on the heap: the Vector API reads arrays without the per-access scope checks
 * that C2 does not hoist out of these loops for a memory segment (measured: 3x slower).
 */
public record Q4Panels(String name, int rows, int cols, int panelRows, byte[] quants, float[] scales) {

    public Q4Panels {
        if (cols <= 0 || cols % 32 != 0) throw new IllegalArgumentException(name + ": cols " + cols + " is not a multiple of 32");
        if (panelRows <= 0 || panelRows % 4 != 0) throw new IllegalArgumentException("panelRows must be a multiple of 4, got " + panelRows);
        long values = (long) panels(rows, panelRows) * panelRows * cols;
        if (quants.length != values / 2 || scales.length != values / 32) {
            throw new IllegalArgumentException(name + ": arrays of " + quants.length + " and " + scales.length
                    + " do not hold the panels of " + rows + " x " + cols);
        }
    }

    /** Repacks a Q4_0 matrix into panels of {@code panelRows} rows (see {@link Q4Kernels#panelRows()}). */
    public static Q4Panels pack(WeightMatrix w, int panelRows) {
        if (w.type() != GgufTensorType.Q4_0) throw new IllegalArgumentException(w.name() + " is " + w.type() + ", not Q4_0");
        int blocks = w.cols() / 32, padded = panels(w.rows(), panelRows) * panelRows;
        long values = (long) padded * w.cols();
        if (values / 2 > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(w.name() + " is too large to repack");
        byte[] quants = new byte[(int) (values / 2)];
        float[] scales = new float[(int) (values / 32)];
        java.util.Arrays.fill(quants, (byte) 0x88);
        MemorySegment src = w.data();
        for (int r = 0; r < w.rows(); r++) {
            int p = r / panelRows, i = r % panelRows;
            for (int k = 0; k < blocks; k++) {
                int pk = p * blocks + k;
                long s = r * w.rowBytes() + k * 18L;
                scales[pk * panelRows + i] = Float.float16ToFloat(src.get(SHORT_LE, s));
                for (int j = 0; j < 16; j++) quants[(pk * 16 + j) * panelRows + i] = src.get(ValueLayout.JAVA_BYTE, s + 2 + j);
            }
        }
        return new Q4Panels(w.name(), w.rows(), w.cols(), panelRows, quants, scales);
    }

    private static int panels(int rows, int panelRows) {
        return (rows + panelRows - 1) / panelRows;
    }

    public int panels() {
        return panels(rows, panelRows);
    }

    public int blocks() {
        return cols / 32;
    }

    /** Bytes held (the packed weights and their scales). */
    public long byteSize() {
        return quants.length + 4L * scales.length;
    }

    /** The unsigned 4-bit value of (row, col), for reference code and tests. */
    int nibble(int row, int col) {
        int pk = (row / panelRows) * blocks() + col / 32, j = col % 32;
        int v = quants[(pk * 16 + j % 16) * panelRows + row % panelRows] & 0xff;
        return j < 16 ? v & 0xf : v >>> 4;
    }

    /** The block scale of (row, block), for reference code and tests. */
    float scale(int row, int block) {
        return scales[((row / panelRows) * blocks() + block) * panelRows + row % panelRows];
    }

    @Override
    public String toString() {
        return "Q4Panels[" + name + " " + rows + "x" + cols + " in panels of " + panelRows + "]";
    }
}
