package io.tandem.engine.kernels;

import java.lang.foreign.MemorySegment;

/**
 * A weight matrix repacked once (at model load) into row panels for the vector kernels: panel {@code p} holds rows
 * {@code [p * lanes, (p + 1) * lanes)}, column-major, so one vector load gives one column of a panel's rows. Rows past
 * {@link WeightMatrix#rows()} in the last panel are zero. Per type, panel {@code p} starts at
 * {@code p * panelBytes()} and holds:
 * <ul>
 *   <li>F32, F16, BF16: column {@code c} at {@code c * lanes * elementBytes}, {@code lanes} values in the type's
 *       encoding;</li>
 *   <li>Q8_0: per 32-column block {@code b}, at {@code b * 36 * lanes}: the {@code lanes} scales of its rows as f32
 *       (GGUF's half-precision scales, widened exactly), then 32 columns of {@code lanes} int8 values each (GGUF's
 *       bytes, transposed).</li>
 * </ul>
 * The memory is off-heap and freed with this object; the GGUF mapping of {@code source} stays as it is (other code
 * reads it through the {@link WeightMatrix} view). {@code finite} is false when an F16 matrix holds an infinity or a
 * NaN (the kernels then take a path that widens every half exactly, see {@code PanelKernels.matvecF16}).
 */
public record PanelMatrix(WeightMatrix source, int lanes, int panels, long panelBytes, MemorySegment data,
                          boolean finite) implements LinearWeight {

    public PanelMatrix {
        if (lanes < 1 || panels != (source.rows() + lanes - 1) / lanes) {
            throw new IllegalArgumentException(source.name() + ": " + panels + " panels of " + lanes + " lanes do not hold "
                    + source.rows() + " rows");
        }
        if (data.byteSize() != panelBytes * panels) {
            throw new IllegalArgumentException(source.name() + ": " + data.byteSize() + " packed bytes, expected "
                    + panelBytes * panels);
        }
    }

    public int rows() {
        return source.rows();
    }

    public int cols() {
        return source.cols();
    }

    @Override
    public String toString() {
        return "PanelMatrix[" + source.name() + " " + source.type() + " " + rows() + "x" + cols() + ", " + panels
                + " panels of " + lanes + "]";
    }
}
