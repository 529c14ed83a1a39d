package io.tandem.transfer.control;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.Notification;
import io.tandem.transfer.TransferException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One control connection between two agents, used both ways: the side that connected posts transfers (WRITE data,
 * READ requests, notifications) and waits for ACK/ERROR; the accepting side applies them to its registered memory.
 * Netty's buffers are used raw ({@link NetSocketInternal#messageHandler}) so data is copied once, socket buffer to
 * registered memory, and sent from registered memory without a copy. A closed connection fails its pending transfers.
 */
public final class ControlConnection {
    private static final System.Logger LOG = System.getLogger(ControlConnection.class.getName());
    private static final int MAX_NOTIFICATION = 16 << 20;
    private static final AtomicLong IDS = new AtomicLong();

    private record Pending(CompletableFuture<Void> done, List<MemorySegment> readInto) {
    }

    private final NetSocketInternal socket;
    private final String peer;
    private final LocalMemory memory;
    private final Consumer<Notification> notifications;
    private final Vertx vertx;
    private final Duration timeout;
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    /** Transfers whose WRITE frames had a bad descriptor, answered with ERROR at WRITE_END (event loop only). */
    private final Map<Long, String> writeErrors = new HashMap<>();
    private volatile boolean closed;
    private volatile Runnable closeListener = () -> { };

    public ControlConnection(NetSocket socket, String peer, LocalMemory memory, Consumer<Notification> notifications,
                             Vertx vertx, Duration timeout) {
        this.socket = (NetSocketInternal) socket;
        this.peer = peer;
        this.memory = memory;
        this.notifications = notifications;
        this.vertx = vertx;
        this.timeout = timeout;
        FrameDecoder decoder = new FrameDecoder(this::frame);
        this.socket.messageHandler(msg -> {
            try {
                if (msg instanceof ByteBuf b) decoder.decode(b);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "control connection with " + peer + ": " + e.getMessage());
                socket.close();
            } finally {
                ReferenceCountUtil.release(msg);
            }
        });
        this.socket.closeHandler(v -> {
            failAll("connection to " + peer + " closed");
            closeListener.run();
        });
        this.socket.exceptionHandler(e -> LOG.log(System.Logger.Level.DEBUG, "control connection with " + peer, e));
    }

    /** Runs {@code listener} once the connection closed (after its pending transfers failed). */
    public ControlConnection onClose(Runnable listener) {
        closeListener = listener;
        return this;
    }

    public boolean isClosed() {
        return closed;
    }

    public String peer() {
        return peer;
    }

    /** Writes {@code local[i]} to the peer's {@code remote[i]}; completes once the peer applied every byte. */
    public CompletableFuture<Void> write(List<MemorySegment> local, List<MemoryDescriptor> remote) {
        long id = IDS.incrementAndGet();
        CompletableFuture<Void> done = track(id, null);
        // one gathering write for the whole transfer: a single hop to the event loop, a single flush
        CompositeByteBuf all = Unpooled.compositeBuffer(Integer.MAX_VALUE);
        for (int i = 0; i < remote.size(); i++) {
            MemoryDescriptor d = remote.get(i);
            all.addComponent(true, Frames.withPayload(Frames.start(Frames.WRITE, 20, d.length()).writeLong(id)
                    .writeInt(d.region()).writeLong(d.offset()), local.get(i)));
        }
        send(all.addComponent(true, Frames.idOnly(Frames.WRITE_END, id)), done);
        return done;
    }

    /** Reads the peer's {@code remote[i]} into {@code local[i]}; completes once every byte is in local memory. */
    public CompletableFuture<Void> read(List<MemorySegment> local, List<MemoryDescriptor> remote) {
        long id = IDS.incrementAndGet();
        CompletableFuture<Void> done = track(id, local);
        ByteBuf f = Frames.start(Frames.READ, 12 + 20 * remote.size(), 0).writeLong(id).writeInt(remote.size());
        for (MemoryDescriptor d : remote) f.writeInt(d.region()).writeLong(d.offset()).writeLong(d.length());
        send(f, done);
        return done;
    }

    /** Sends a notification; completes once it is written to the socket. */
    public CompletableFuture<Void> notify(String from, byte[] payload) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) done.completeExceptionally(new TransferException("connection to " + peer + " closed"));
        else send(Frames.notif(from, payload), done).onSuccess(v -> done.complete(null));
        return done;
    }

    public Future<Void> close() {
        return socket.close();
    }

    private CompletableFuture<Void> track(long id, List<MemorySegment> readInto) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(new TransferException("connection to " + peer + " closed"));
            return done;
        }
        pending.put(id, new Pending(done, readInto));
        long timer = vertx.setTimer(timeout.toMillis(), t -> done.completeExceptionally(
                new TransferException("transfer with " + peer + " timed out after " + timeout)));
        done.whenComplete((v, e) -> {
            pending.remove(id);
            vertx.cancelTimer(timer);
        });
        if (closed) failAll("connection to " + peer + " closed"); // closed while we registered
        return done;
    }

    private Future<Void> send(ByteBuf frame, CompletableFuture<Void> failOnError) {
        return socket.writeMessage(frame).onFailure(e -> failOnError.completeExceptionally(
                new TransferException("sending to " + peer + " failed: " + e.getMessage(), e)));
    }

    private void failAll(String why) {
        closed = true;
        for (Pending p : pending.values()) p.done.completeExceptionally(new TransferException(why));
    }

    private FrameDecoder.Sink frame(byte type, ByteBuf h, long payloadLength) {
        switch (type) {
            case Frames.WRITE -> {
                long id = h.readLong();
                try {
                    return into(memory.slice(h.readInt(), h.readLong(), payloadLength));
                } catch (TransferException e) {
                    writeErrors.putIfAbsent(id, e.getMessage());
                    return null;
                }
            }
            case Frames.WRITE_END -> {
                long id = h.readLong();
                String error = writeErrors.remove(id);
                socket.writeMessage(error == null ? Frames.idOnly(Frames.ACK, id) : Frames.error(id, error));
            }
            case Frames.READ -> serveRead(h);
            case Frames.READ_DATA -> {
                Pending p = pending.get(h.readLong());
                int index = h.readInt();
                if (p == null || p.readInto == null || index < 0 || index >= p.readInto.size()) return null;
                MemorySegment dst = p.readInto.get(index);
                if (dst.byteSize() != payloadLength) {
                    p.done.completeExceptionally(new TransferException(peer + " answered a READ with the wrong length"));
                    return null;
                }
                return into(dst);
            }
            case Frames.ACK -> complete(h.readLong(), null);
            case Frames.ERROR -> complete(h.readLong(), peer + ": " + Frames.string(h));
            case Frames.NOTIF -> {
                if (payloadLength > MAX_NOTIFICATION) throw new TransferException("notification too large: " + payloadLength);
                return notification(Frames.string(h), (int) payloadLength);
            }
            default -> throw new TransferException("unknown frame type " + type + " from " + peer);
        }
        return null;
    }

    private void serveRead(ByteBuf h) {
        long id = h.readLong();
        int n = h.readInt();
        MemorySegment[] slices = new MemorySegment[n];
        try {
            for (int i = 0; i < n; i++) slices[i] = memory.slice(h.readInt(), h.readLong(), h.readLong());
        } catch (TransferException | IllegalArgumentException e) {
            socket.writeMessage(Frames.error(id, e.getMessage()));
            return;
        }
        for (int i = 0; i < n; i++) {
            socket.writeMessage(Frames.withPayload(
                    Frames.start(Frames.READ_DATA, 12, slices[i].byteSize()).writeLong(id).writeInt(i), slices[i]));
        }
        socket.writeMessage(Frames.idOnly(Frames.ACK, id));
    }

    private void complete(long id, String error) {
        Pending p = pending.get(id);
        if (p == null) return; // timed out already
        if (error == null) p.done.complete(null);
        else p.done.completeExceptionally(new TransferException(error));
    }

    private static FrameDecoder.Sink into(MemorySegment dst) {
        return (chunk, at) -> chunk.getBytes(chunk.readerIndex(), dst.asSlice(at, chunk.readableBytes()).asByteBuffer());
    }

    private FrameDecoder.Sink notification(String from, int length) {
        byte[] payload = new byte[length];
        return new FrameDecoder.Sink() {
            @Override
            public void accept(ByteBuf chunk, long at) {
                chunk.getBytes(chunk.readerIndex(), payload, (int) at, chunk.readableBytes());
            }

            @Override
            public void end() {
                notifications.accept(new Notification(from, payload));
            }
        };
    }
}
