package io.tandem.transfer.control;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.transfer.MemoryDescriptor;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The control channel's framing: {@code type:u8, headerLength:i32, payloadLength:i64, header, payload}. Headers are
 * small and parsed whole; payloads (the data of WRITE and READ_DATA) are streamed straight between the socket and
 * registered memory, never through the Java heap, and may be longer than 2 GiB.
 *
 * <p>A connection starts with the handshake (HELLO, CHALLENGE, AUTH, PROOF, or REFUSED; see {@link Handshake}); nothing else
 * is accepted before it completed. Afterwards the connecting side sends requests (WRITE, WRITE_END, READ, LEASE,
 * DONE, SHM_PROOF) and the accepting side answers them (ACK, ERROR, READ_DATA).
 */
public final class Frames {
    public static final int PREFIX = 13;

    /** Connecting side, first: who it is. Headers of the handshake frames: see {@link Handshake}. */
    public static final byte HELLO = 10;
    /** Accepting side: who it is, with its nonce. */
    public static final byte CHALLENGE = 15;
    /** Connecting side: its MAC. */
    public static final byte AUTH = 11;
    /** Accepting side: its own MAC; the connection is open. */
    public static final byte PROOF = 12;
    /** Accepting side: the handshake was refused (UTF-8 reason), then the connection closes. */
    public static final byte REFUSED = 13;

    /** id, fence token, region, offset; payload = the bytes to put there. */
    public static final byte WRITE = 1;
    /**
     * id, has-notification:u8; payload = the notification. All WRITE frames of transfer id were sent: answer ERROR if one
     * was refused (the notification is dropped), else deliver the notification and ACK.
     */
    public static final byte WRITE_END = 2;
    /** id, count, count x (region, offset, length): answer READ_DATA per descriptor then ACK, or ERROR. */
    public static final byte READ = 3;
    /** id, index of the descriptor; payload = its bytes. */
    public static final byte READ_DATA = 4;
    public static final byte ACK = 5;
    /** id, UTF-8 message. */
    public static final byte ERROR = 6;
    /** id, fence token, count, count x (region, offset, length): pin the token for a one-sided write; ACK or ERROR. */
    public static final byte LEASE = 8;
    /** id, lease id (0 = none), has-notification:u8; payload = the notification. A one-sided transfer is over; ACK. */
    public static final byte DONE = 9;
    /** id; payload = the nonce read from the accepting agent's shm probe file: ACK when it matches, else ERROR. */
    public static final byte SHM_PROOF = 14;

    /** A ByteBuffer view is at most 2 GiB: longer payloads are wrapped in pieces. */
    private static final long WRAP_CHUNK = 1L << 30;

    private Frames() {
    }

    /**
     * The prefix of a frame with room for its header, which the caller appends. Direct memory: a frame sent as one
     * composite with a payload in registered (native) memory must be direct in every part, or Netty copies the whole
     * composite, payload included, into a new direct buffer before writing it.
     */
    public static ByteBuf start(byte type, int headerLength, long payloadLength) {
        return Unpooled.directBuffer(PREFIX + headerLength).writeByte(type).writeInt(headerLength).writeLong(payloadLength);
    }

    /** A frame of header bytes only. */
    public static ByteBuf of(byte type, byte[] header) {
        return start(type, header.length, 0).writeBytes(header);
    }

    public static ByteBuf idOnly(byte type, long id) {
        return start(type, 8, 0).writeLong(id);
    }

    public static ByteBuf error(long id, String message) {
        byte[] m = message.getBytes(StandardCharsets.UTF_8);
        return start(ERROR, 8 + m.length, 0).writeLong(id).writeBytes(m);
    }

    /** WRITE_END and DONE carry the notification, so the receiver's ACK covers it too. */
    public static ByteBuf writeEnd(long id, byte[] notification) {
        ByteBuf head = start(WRITE_END, 9, notification == null ? 0 : notification.length).writeLong(id)
                .writeByte(notification == null ? 0 : 1);
        return notification == null ? head : head.writeBytes(notification);
    }

    /** READ and LEASE: {@code id, [token,] count, count x (region, offset, length)}. */
    public static ByteBuf descriptors(byte type, long id, Long token, List<MemoryDescriptor> ds) {
        ByteBuf f = start(type, 12 + (token == null ? 0 : 8) + 20 * ds.size(), 0).writeLong(id);
        if (token != null) f.writeLong(token);
        f.writeInt(ds.size());
        for (MemoryDescriptor d : ds) f.writeInt(d.region()).writeLong(d.offset()).writeLong(d.length());
        return f;
    }

    public static ByteBuf done(long id, long lease, byte[] notification) {
        int n = notification == null ? 0 : notification.length;
        ByteBuf head = start(DONE, 17, n).writeLong(id).writeLong(lease).writeByte(notification == null ? 0 : 1);
        return notification == null ? head : head.writeBytes(notification);
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

    /** The frame's name, for messages. */
    public static String name(byte type) {
        return switch (type) {
            case HELLO -> "HELLO";
            case CHALLENGE -> "CHALLENGE";
            case AUTH -> "AUTH";
            case PROOF -> "PROOF";
            case REFUSED -> "REFUSED";
            case WRITE -> "WRITE";
            case WRITE_END -> "WRITE_END";
            case READ -> "READ";
            case READ_DATA -> "READ_DATA";
            case ACK -> "ACK";
            case ERROR -> "ERROR";
            case LEASE -> "LEASE";
            case DONE -> "DONE";
            case SHM_PROOF -> "SHM_PROOF";
            default -> "type " + (type & 0xff);
        };
    }
}
