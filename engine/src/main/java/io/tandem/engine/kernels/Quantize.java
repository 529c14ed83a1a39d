package io.tandem.engine.kernels;

import io.tandem.model.gguf.GgufTensorType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Encodes floats into GGUF tensor types (ggml layouts; Q8_0 and Q4_0 as ggml's reference quantizers do): for test tensors and the benchmark model. */
public final class Quantize {
    private Quantize() {
    }

    public static byte[] encode(GgufTensorType type, float[] v) {
        return switch (type) {
            case F32 -> {
                ByteBuffer b = le(v.length * 4);
                for (float f : v) b.putFloat(f);
                yield b.array();
            }
            case F16 -> {
                ByteBuffer b = le(v.length * 2);
                for (float f : v) b.putShort(Float.floatToFloat16(f));
                yield b.array();
            }
            case BF16 -> {
                ByteBuffer b = le(v.length * 2);
                for (float f : v) b.putShort(bf16(f));
                yield b.array();
            }
            case Q8_0 -> q8_0(v);
            case Q4_0 -> q4_0(v);
            default -> throw new IllegalArgumentException("no test encoder for " + type);
        };
    }

    /** Round to nearest even bfloat16. */
    static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    static byte[] q8_0(float[] v) {
        ByteBuffer b = le(v.length / 32 * 34);
        for (int blk = 0; blk < v.length / 32; blk++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(v[blk * 32 + j]));
            float d = amax / 127f;
            float id = d != 0 ? 1 / d : 0;
            b.putShort(Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) b.put((byte) Math.round(v[blk * 32 + j] * id));
        }
        return b.array();
    }

    static byte[] q4_0(float[] v) {
        ByteBuffer b = le(v.length / 32 * 18);
        for (int blk = 0; blk < v.length / 32; blk++) {
            float amax = 0, max = 0;
            for (int j = 0; j < 32; j++) {
                float x = v[blk * 32 + j];
                if (Math.abs(x) > amax) {
                    amax = Math.abs(x);
                    max = x;
                }
            }
            float d = max / -8;
            float id = d != 0 ? 1 / d : 0;
            b.putShort(Float.floatToFloat16(d));
            for (int j = 0; j < 16; j++) {
                int lo = Math.min(15, (int) (v[blk * 32 + j] * id + 8.5f));
                int hi = Math.min(15, (int) (v[blk * 32 + 16 + j] * id + 8.5f));
                b.put((byte) (lo | hi << 4));
            }
        }
        return b.array();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
