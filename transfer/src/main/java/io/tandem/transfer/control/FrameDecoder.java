package io.tandem.transfer.control;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Splits the incoming byte stream into {@link Frames frames}. The header is gathered in a small buffer; the payload is
 * handed to the frame's {@link Sink} chunk by chunk as it arrives from the socket, so a large WRITE lands in registered
 * memory without ever being buffered whole. A {@link Guard} sees every frame's prefix before its header is read, so a
 * frame that is not allowed (before the handshake: anything but the next handshake step, or an oversized one) is
 * refused before it is buffered. Used on one event-loop thread only.
 */
final class FrameDecoder {
    private static final int MAX_HEADER = 1 << 20;

    interface Guard {
        /** Throws a {@link ProtocolException} when a frame with this prefix must not be accepted now. */
        void check(byte type, int headerLength, long payloadLength);
    }

    interface Listener {
        /** A frame's header arrived; returns where its payload goes, or {@code null} to discard it. */
        Sink frame(byte type, ByteBuf header, long payloadLength);
    }

    interface Sink {
        /** The next {@code chunk.readableBytes()} bytes of the payload, starting at payload offset {@code at}. */
        void accept(ByteBuf chunk, long at);

        /** The payload is complete (also called for empty payloads). */
        default void end() {
        }
    }

    private final Guard guard;
    private final Listener listener;
    private final ByteBuf head = Unpooled.buffer(64);
    private int headerLength = -1;
    private long payloadLength;
    private long received;
    private Sink sink;
    private boolean inPayload;

    FrameDecoder(Guard guard, Listener listener) {
        this.guard = guard;
        this.listener = listener;
    }

    void decode(ByteBuf in) {
        while (in.isReadable()) {
            if (inPayload) {
                int n = (int) Math.min(payloadLength - received, in.readableBytes());
                if (sink != null) sink.accept(in.slice(in.readerIndex(), n), received);
                in.skipBytes(n);
                received += n;
            } else {
                int want = (headerLength < 0 ? Frames.PREFIX : Frames.PREFIX + headerLength) - head.readableBytes();
                head.writeBytes(in, Math.min(want, in.readableBytes()));
                if (head.readableBytes() < Frames.PREFIX) return;
                if (headerLength < 0) readPrefix();
                if (head.readableBytes() < Frames.PREFIX + headerLength) continue;
                sink = listener.frame(head.getByte(0), head.slice(Frames.PREFIX, headerLength), payloadLength);
                inPayload = true;
                received = 0;
            }
            if (inPayload && received == payloadLength) finish();
        }
    }

    private void readPrefix() {
        headerLength = head.getInt(1);
        payloadLength = head.getLong(5);
        if (headerLength < 0 || headerLength > MAX_HEADER || payloadLength < 0) {
            throw new ProtocolException("malformed", "corrupt frame: header " + headerLength + ", payload " + payloadLength);
        }
        guard.check(head.getByte(0), headerLength, payloadLength);
    }

    private void finish() {
        Sink s = sink;
        head.clear();
        headerLength = -1;
        inPayload = false;
        sink = null;
        if (s != null) s.end();
    }
}
