package io.tandem.transfer.control;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * The control channel's framing: {@code type:u8, headerLength:i32, payloadLength:i64, header, payload}. Headers are
 * small and parsed whole; payloads (the data of WRITE and READ_DATA) are streamed straight between the socket and
 * registered memory, never through the Java heap, and may be longer than 2 GiB.
 */
public final class Frames {
    public static final int PREFIX = 13;
    /** id, region, offset; payload = the bytes to put there. */
    public static final byte WRITE = 1;
    /** id: all WRITE frames of transfer id were sent; answer ACK or ERROR. */
    public static final byte WRITE_END = 2;
    /** id, count, count x (region, offset, length): answer READ_DATA per descriptor then ACK, or ERROR. */
    public static final byte READ = 3;
    /** id, index of the descriptor; payload = its bytes. */
    public static final byte READ_DATA = 4;
    public static final byte ACK = 5;
    /** id, UTF-8 message. */
    public static final byte ERROR = 6;
    /** UTF-8 name of the sending agent; payload = the notification. */
    public static final byte NOTIF = 7;

    /** A ByteBuffer view is at most 2 GiB: longer payloads are wrapped in pieces. */
    private static final long WRAP_CHUNK = 1L << 30;

    private Frames() {
    }

    /** The prefix of a frame with room for its header, which the caller appends. */
    public static ByteBuf start(byte type, int headerLength, long payloadLength) {
        return Unpooled.buffer(PREFIX + headerLength).writeByte(type).writeInt(headerLength).writeLong(payloadLength);
    }

    public static ByteBuf idOnly(byte type, long id) {
        return start(type, 8, 0).writeLong(id);
    }

    public static ByteBuf error(long id, String message) {
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        return start(ERROR, 8 + m.length, 0).writeLong(id).writeBytes(m);
    }

    public static ByteBuf notif(String from, byte[] payload) {
        byte[] f = from.getBytes(StandardCharsets.UTF_8);
        return Unpooled.wrappedBuffer(start(NOTIF, f.length, payload.length).writeBytes(f), Unpooled.wrappedBuffer(payload));
    }

    /** {@code head} followed by {@code data} without copying it: the socket reads the registered memory itself. */
    public static ByteBuf withPayload(ByteBuf head, MemorySegment data) {
        long n = data.byteSize();
        ByteBuf[] parts = new ByteBuf[1 + (int) ((n + WRAP_CHUNK - 1) / WRAP_CHUNK)];
        parts[0] = head;
        for (int i = 1; i < parts.length; i++) {
            long at = (i - 1) * WRAP_CHUNK;
            parts[i] = Unpooled.wrappedBuffer(data.asSlice(at, Math.min(WRAP_CHUNK, n - at)).asByteBuffer());
        }
        return Unpooled.wrappedBuffer(parts);
    }

    public static String string(ByteBuf b) {
        return b.toString(b.readerIndex(), b.readableBytes(), StandardCharsets.UTF_8);
    }
}
