package io.tandem.protocol.codec;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;

/**
 * A bounds-checked cursor over a {@link Buffer}, reading what {@link WireWriter} wrote: a
 * truncated or corrupt message is refused with a clear message before anything is allocated.
 */
final class WireReader {
    private final Buffer buf;
    private int pos;

    WireReader(Buffer buf, int pos) {
        this.buf = buf;
        this.pos = pos;
    }

    byte readByte() {
        need(1);
        return buf.getByte(pos++);
    }

    boolean readBoolean() {
        return readByte() != 0;
    }

    int readInt() {
        need(4);
        int v = buf.getInt(pos);
        pos += 4;
        return v;
    }

    long readLong() {
        need(8);
        long v = buf.getLong(pos);
        pos += 8;
        return v;
    }

    float readFloat() {
        need(4);
        float v = buf.getFloat(pos);
        pos += 4;
        return v;
    }

    /** A string written by {@link WireWriter#string}, possibly null. */
    String readString() {
        int len = readLength();
        if (len < 0) return null;
        String s = buf.getString(pos, pos + len, StandardCharsets.UTF_8.name());
        pos += len;
        return s;
    }

    Long readNullableLong() {
        return readBoolean() ? readLong() : null;
    }

    int[] readInts() {
        int n = readLength(4);
        if (n < 0) return null;
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = readInt();
        return a;
    }

    long[] readLongs() {
        int n = readLength(8);
        if (n < 0) return null;
        long[] a = new long[n];
        for (int i = 0; i < n; i++) a[i] = readLong();
        return a;
    }

    float[] readFloats() {
        int n = readLength(4);
        if (n < 0) return null;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = readFloat();
        return a;
    }

    /** A length prefix of a byte run, -1 for null; rejects lengths the remaining bytes cannot hold. */
    int readLength() {
        return readLength(1);
    }

    /** A count of items of {@code bytesPerItem} each, -1 for null, checked against the bytes left. */
    int readLength(int bytesPerItem) {
        int n = readInt();
        if (n < -1 || (long) n * bytesPerItem > buf.length() - pos) {
            throw new IllegalStateException("corrupt message: length " + n + " at offset " + (pos - 4)
                    + " exceeds the " + (buf.length() - pos) + " bytes left");
        }
        return n;
    }

    double readDouble() {
        need(8);
        double v = buf.getDouble(pos);
        pos += 8;
        return v;
    }

    /** Bytes left after the cursor: fields a newer writer appended are read only when present. */
    int remaining() {
        return buf.length() - pos;
    }

    /** Offset of the next byte, for error messages. */
    int position() {
        return pos;
    }

    private void need(int bytes) {
        if (pos + bytes > buf.length()) {
            throw new IllegalStateException("corrupt message: truncated at offset " + pos + " (need " + bytes
                    + " more bytes, " + (buf.length() - pos) + " left)");
        }
    }

    /** Checks the leading format version byte. */
    void expectVersion(byte expected, String what) {
        byte v = readByte();
        if (v != expected) {
            throw new IllegalStateException("unsupported " + what + " wire version " + v + " (this node reads "
                    + expected + "); are all nodes on the same Tandem version?");
        }
    }
}
