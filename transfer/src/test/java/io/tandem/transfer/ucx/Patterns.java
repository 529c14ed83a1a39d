package io.tandem.transfer.ucx;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.zip.CRC32;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/** Deterministic memory contents and checksums both test processes can compute. */
final class Patterns {
    private Patterns() {
    }

    static void fill(MemorySegment m, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] chunk = new byte[1 << 16];
        for (long off = 0; off < m.byteSize(); off += chunk.length) {
            int n = (int) Math.min(chunk.length, m.byteSize() - off);
            r.nextBytes(chunk);
            MemorySegment.copy(chunk, 0, m, JAVA_BYTE, off, n);
        }
    }

    static long crc(MemorySegment m) {
        CRC32 crc = new CRC32();
        crc.update(m.asByteBuffer());
        return crc.getValue();
    }
}
