package io.tandem.protocol.kv;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.MessageCodec;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link KvEventBatch} in binary, laid out like the other protocol codecs: a format-version
 * byte, the worker id (length-prefixed UTF-8), seq and timestamp, the event count, then per
 * event a kind byte and its hashes as a length-prefixed run of longs. Usable on the event bus
 * and, through {@link #encode}/{@link #decode}, wherever batches are stored as bytes.
 * Local delivery passes the same (immutable) instance.
 */
public final class KvEventBatchCodec implements MessageCodec<KvEventBatch, KvEventBatch> {
    public static final String NAME = "tandem.KvEventBatch";
    /** Format version written first; bump it when the layout changes. */
    public static final byte VERSION = 1;

    private static final byte STORED = 0, REMOVED = 1, CLEARED = 2;

    @Override
    public void encodeToWire(Buffer buffer, KvEventBatch batch) {
        byte[] id = batch.workerId().getBytes(StandardCharsets.UTF_8);
        buffer.appendByte(VERSION).appendInt(id.length).appendBytes(id)
                .appendLong(batch.seq()).appendLong(batch.timestampMillis()).appendInt(batch.events().size());
        for (KvEvent e : batch.events()) {
            switch (e) {
                case KvEvent.BlocksStored s -> {
                    buffer.appendByte(STORED).appendLong(s.parentHash()).appendInt(s.size());
                    for (int i = 0; i < s.size(); i++) buffer.appendLong(s.hash(i));
                }
                case KvEvent.BlocksRemoved r -> {
                    buffer.appendByte(REMOVED).appendInt(r.size());
                    for (int i = 0; i < r.size(); i++) buffer.appendLong(r.hash(i));
                }
                case KvEvent.AllBlocksCleared c -> buffer.appendByte(CLEARED);
            }
        }
    }

    @Override
    public KvEventBatch decodeFromWire(int pos, Buffer buffer) {
        var r = new Reader(buffer, pos);
        byte version = r.readByte();
        if (version != VERSION) {
            throw new IllegalStateException("unsupported KvEventBatch wire version " + version + " (this node reads "
                    + VERSION + "); are all nodes on the same Tandem version?");
        }
        String workerId = r.readString();
        long seq = r.readLong();
        long timestamp = r.readLong();
        int count = r.readCount(1);
        List<KvEvent> events = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte kind = r.readByte();
            events.add(switch (kind) {
                case STORED -> {
                    long parent = r.readLong();
                    yield new KvEvent.BlocksStored(r.readHashes(), parent);
                }
                case REMOVED -> new KvEvent.BlocksRemoved(r.readHashes());
                case CLEARED -> new KvEvent.AllBlocksCleared();
                default -> throw new IllegalStateException("corrupt KvEventBatch: unknown event kind " + kind
                        + " at offset " + (r.pos - 1));
            });
        }
        return new KvEventBatch(workerId, seq, timestamp, events);
    }

    /** Encodes to a fresh buffer. */
    public Buffer encode(KvEventBatch batch) {
        Buffer b = Buffer.buffer(64);
        encodeToWire(b, batch);
        return b;
    }

    public KvEventBatch decode(Buffer buffer) {
        return decodeFromWire(0, buffer);
    }

    @Override
    public KvEventBatch transform(KvEventBatch batch) {
        return batch;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte systemCodecID() {
        return -1;
    }

    /** A bounds-checked cursor: a corrupt length is refused before anything is allocated for it. */
    private static final class Reader {
        private final Buffer buf;
        private int pos;

        Reader(Buffer buf, int pos) {
            this.buf = buf;
            this.pos = pos;
        }

        byte readByte() {
            need(1);
            return buf.getByte(pos++);
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

        String readString() {
            int n = readCount(1);
            String s = buf.getString(pos, pos + n, StandardCharsets.UTF_8.name());
            pos += n;
            return s;
        }

        long[] readHashes() {
            int n = readCount(8);
            if (n == 0) throw new IllegalStateException("corrupt KvEventBatch: empty hash list at offset " + (pos - 4));
            long[] a = new long[n];
            for (int i = 0; i < n; i++) a[i] = readLong();
            return a;
        }

        /** A count of items of at least {@code minBytes} each, checked against the bytes left. */
        int readCount(int minBytes) {
            int n = readInt();
            if (n < 0 || (long) n * minBytes > buf.length() - pos) {
                throw new IllegalStateException("corrupt KvEventBatch: count " + n + " at offset " + (pos - 4)
                        + " exceeds the " + (buf.length() - pos) + " bytes left");
            }
            return n;
        }

        private void need(int bytes) {
            if (pos + bytes > buf.length()) {
                throw new IllegalStateException("corrupt KvEventBatch: truncated at offset " + pos + " (need " + bytes
                        + " more bytes, " + (buf.length() - pos) + " left)");
            }
        }
    }
}
