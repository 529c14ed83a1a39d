package io.tandem.engine.kernels;

import io.tandem.model.gguf.GgufTensorType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.tandem.engine.kernels.WeightMatrix.FLOAT_LE;
import static io.tandem.engine.kernels.WeightMatrix.SHORT_LE;

/**
 * A Q4_0 weight matrix repacked at load into panels of {@code panelRows} rows, so that one vector load reads the
 * same column of every row of a panel (rows in lanes: a matrix-vector product then needs no horizontal sums).
 *
 * <p>Layout: panel {@code p} (rows {@code p * panelRows ..}) starts at byte {@code p * panelBytes()}; inside it block
 * {@code b} (columns {@code 32b .. 32b+31}) takes {@link #blockBytes()}: first the {@code panelRows} block scales as
 * little-endian floats (decoded from IEEE half, exactly), then for {@code j = 0 .. 15} the {@code panelRows} bytes
 * {@code j} of the rows' ggml blocks (low nibble: column {@code 32b + j}, high nibble: column {@code 32b + 16 + j},
 * each an unsigned value {@code q} standing for {@code d * (q - 8)}). Rows past {@code rows} are padding (scale 0).
 * The packed matrix lives off the heap, 64-byte aligned, freed by the garbage collector with this record.
 */
public record Q4Panels(String name, int rows, int cols, int panelRows, MemorySegment data) {

    public Q4Panels {
        if (cols <= 0 || cols % 32 != 0) throw new IllegalArgumentException(name + ": cols " + cols + " is not a multiple of 32");
        if (panelRows <= 0 || panelRows % 4 != 0) throw new IllegalArgumentException("panelRows must be a multiple of 4, got " + panelRows);
        if (data.byteSize() != (long) panels(rows, panelRows) * (cols / 32) * 20L * panelRows) {
            throw new IllegalArgumentException(name + ": " + data.byteSize() + " bytes do not hold the panels");
        }
    }

    /** Repacks a Q4_0 matrix into panels of {@code panelRows} rows (see {@link Q4Kernels#panelRows()}). */
    public static Q4Panels pack(WeightMatrix w, int panelRows) {
        if (w.type() != GgufTensorType.Q4_0) throw new IllegalArgumentException(w.name() + " is " + w.type() + ", not Q4_0");
        int blocks = w.cols() / 32, panels = panels(w.rows(), panelRows);
        long blockBytes = 20L * panelRows;
        MemorySegment out = Arena.ofAuto().allocate(panels * blocks * blockBytes, 64);
        MemorySegment src = w.data();
        for (int r = 0; r < panels * panelRows; r++) {
            int p = r / panelRows, i = r % panelRows;
            for (int b = 0; b < blocks; b++) {
                long dst = (p * (long) blocks + b) * blockBytes;
                if (r >= w.rows()) {
                    for (int j = 0; j < 16; j++) out.set(ValueLayout.JAVA_BYTE, dst + 4L * panelRows + (long) j * panelRows + i, (byte) 0x88);
                    continue; // scale stays 0
                }
                long s = r * w.rowBytes() + b * 18L;
                out.set(FLOAT_LE, dst + 4L * i, Float.float16ToFloat(src.get(SHORT_LE, s)));
                for (int j = 0; j < 16; j++) {
                    out.set(ValueLayout.JAVA_BYTE, dst + 4L * panelRows + (long) j * panelRows + i,
                            src.get(ValueLayout.JAVA_BYTE, s + 2 + j));
                }
            }
        }
        return new Q4Panels(w.name(), w.rows(), w.cols(), panelRows, out);
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

    public long blockBytes() {
        return 20L * panelRows;
    }

    public long panelBytes() {
        return blocks() * blockBytes();
    }

    /** The unsigned 4-bit value of (row, col), for tests. */
    int nibble(int row, int col) {
        int b = col / 32, j = col % 32;
        long off = (row / panelRows) * panelBytes() + b * blockBytes() + 4L * panelRows + (long) (j % 16) * panelRows
                + row % panelRows;
        int v = data.get(ValueLayout.JAVA_BYTE, off) & 0xff;
        return j < 16 ? v & 0xf : v >>> 4;
    }

    /** The block scale of (row, block), for tests. */
    float scale(int row, int block) {
        return data.get(FLOAT_LE, (row / panelRows) * panelBytes() + block * blockBytes() + 4L * (row % panelRows));
    }

    @Override
    public String toString() {
        return "Q4Panels[" + name + " " + rows + "x" + cols + " in panels of " + panelRows + "]";
    }
}
