package io.tandem.transfer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.zip.CRC32C;

/** Known byte patterns and checksums for checking that transferred bytes arrived intact. */
final class Patterns {
    private Patterns() {
    }

    static byte at(int seed, long i) {
        return (byte) (i * 31 + seed * 7 + (i >>> 11) + (i >>> 19));
    }

    static void fill(MemorySegment s, int seed) {
        byte[] chunk = new byte[1 << 16];
        for (long at = 0; at < s.byteSize(); at += chunk.length) {
            int n = (int) Math.min(chunk.length, s.byteSize() - at);
            for (int i = 0; i < n; i++) chunk[i] = at(seed, at + i);
            MemorySegment.copy(chunk, 0, s, ValueLayout.JAVA_BYTE, at, n);
        }
    }

    /** Whether {@code s} holds pattern {@code seed} as it is at offset {@code from} of a region filled with it. */
    static boolean matches(MemorySegment s, int seed, long from) {
        for (long i = 0; i < s.byteSize(); i++) if (s.get(ValueLayout.JAVA_BYTE, i) != at(seed, from + i)) return false;
        return true;
    }

    static long crc(MemorySegment s) {
        CRC32C c = new CRC32C();
        c.update(s.asByteBuffer());
        return c.getValue();
    }
}
