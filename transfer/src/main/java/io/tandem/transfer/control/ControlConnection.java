package io.tandem.transfer.control;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;
import io.tandem.protocol.auth.ClusterSecret;
import io.tandem.transfer.AgentIdentity;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.TransferException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The connecting side of a control connection, to one loaded peer: says HELLO, answers the peer's challenge (see
 * {@link Handshake}) after checking that it is the agent expected (name and epoch), checks the peer's proof, then
 * posts requests — WRITE data, READs, leases and DONE for one-sided transfers, the shm proof — and
 * completes them on ACK/ERROR. Netty's buffers are used raw ({@link NetSocketInternal#messageHandler}) so data is
 * copied once, socket buffer to registered memory, and sent from registered memory without a copy. A closed
 * connection fails its pending requests.
 */
public final class ControlConnection {
    private static final System.Logger LOG = System.getLogger(ControlConnection.class.getName());
    private static final AtomicLong IDS = new AtomicLong();

    /** Who this side is. */
    public record Self(String agent, AgentIdentity identity, ClusterSecret secret) {
    }

    private record Pending(CompletableFuture<Void> done, List<MemorySegment> readInto) {
    }

    private final NetSocketInternal socket;
    private final String peer;
    private final Self self;
    private final AgentIdentity expected;
    private final Vertx vertx;
    private final Duration timeout;
    private final Refusals refusals;
    private final Handshake.Hello hello;
    private final CompletableFuture<ControlConnection> ready = new CompletableFuture<>();
    private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
    private final long handshakeTimer;
    private Handshake.Hello server;
    private volatile boolean open;
    private volatile boolean closed;
    private volatile Runnable closeListener = () -> { };

    private ControlConnection(NetSocket socket, Self self, String peer, AgentIdentity expected, Vertx vertx, Duration timeout,
                              Duration handshakeTimeout, Refusals refusals) {
        this.socket = (NetSocketInternal) socket;
        this.self = self;
        this.peer = peer;
        this.expected = expected;
        this.vertx = vertx;
        this.timeout = timeout;
        this.refusals = refusals;
        this.hello = Handshake.Hello.of(self.agent(), self.identity(), self.secret(), false);
        FrameDecoder decoder = new FrameDecoder(this::guard, this::frame);
        this.socket.messageHandler(msg -> {
            try {
                if (msg instanceof ByteBuf b && !closed) decoder.decode(b);
            } catch (RuntimeException e) {
                fail(e);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        });
        this.socket.closeHandler(v -> {
            failAll(open ? "connection to " + peer + " closed"
                    : "connection to " + peer + " closed during the handshake (TLS on one side only? the peer's log says why)");
            closeListener.run();
        });
        this.socket.exceptionHandler(e -> LOG.log(System.Logger.Level.DEBUG, "control connection with " + peer, e));
        this.handshakeTimer = vertx.setTimer(handshakeTimeout.toMillis(), t -> {
            if (!open) fail(new TransferException("handshake with " + peer + " not completed within " + handshakeTimeout.toMillis() + " ms"));
        });
        this.socket.writeMessage(Handshake.hello(hello));
    }

    /**
     * Runs the handshake on a freshly connected socket; completes with the open connection, or fails (and closes the
     * socket) when the peer refused, is not the agent expected, or did not prove the secret.
     */
    public static CompletableFuture<ControlConnection> open(NetSocket socket, Self self, String peer, AgentIdentity expected,
                                                            Vertx vertx, Duration timeout, Duration handshakeTimeout,
                                                            Refusals refusals) {
        return new ControlConnection(socket, self, peer, expected, vertx, timeout, handshakeTimeout, refusals).ready;
    }

    /** Runs {@code listener} once the connection closed (after its pending requests failed). */
    public ControlConnection onClose(Runnable listener) {
        closeListener = listener;
        if (closed) listener.run();
        return this;
    }

    public boolean isClosed() {
        return closed;
    }

    public String peer() {
        return peer;
    }

    /** Whether the peer refuses unfenced writes (it said so in its authenticated HELLO). */
    public boolean peerRequiresFences() {
        return server != null && server.requireFences();
    }

    /**
     * Writes {@code local[i]} to the peer's {@code remote[i]} under {@code fence}, then {@code notification} (may be
     * null); completes once the peer applied every byte and took the notification.
     */
    public CompletableFuture<Void> write(List<MemorySegment> local, List<MemoryDescriptor> remote, long fence, byte[] notification) {
        long id = IDS.incrementAndGet();
        CompletableFuture<Void> done = track(id, null);
        // one gathering write for the whole transfer: a single hop to the event loop, a single flush
        CompositeByteBuf all = Unpooled.compositeBuffer(Integer.MAX_VALUE);
        for (int i = 0; i < remote.size(); i++) {
            MemoryDescriptor d = remote.get(i);
            all.addComponent(true, Frames.withPayload(Frames.start(Frames.WRITE, 28, d.length()).writeLong(id).writeLong(fence)
                    .writeInt(d.region()).writeLong(d.offset()), local.get(i)));
        }
        send(all.addComponent(true, Frames.writeEnd(id, notification)), done);
        return done;
    }

    /** Reads the peer's {@code remote[i]} into {@code local[i]}; completes once every byte is in local memory. */
    public CompletableFuture<Void> read(List<MemorySegment> local, List<MemoryDescriptor> remote) {
        long id = IDS.incrementAndGet();
        CompletableFuture<Void> done = track(id, local);
        send(Frames.descriptors(Frames.READ, id, null, remote), done);
        return done;
    }

    /**
     * Asks the peer to pin {@code fence} over {@code remote} for a one-sided write; completes with the lease id. When
     * the answer does not come in time, the lease the peer may still grant is released right away (a DONE for it).
     */
    public CompletableFuture<Long> lease(long fence, List<MemoryDescriptor> remote) {
        long id = IDS.incrementAndGet();
        CompletableFuture<Void> done = track(id, null);
        send(Frames.descriptors(Frames.LEASE, id, fence, remote), done);
        done.whenComplete((v, e) -> {
            if (e != null && !closed) socket.writeMessage(Frames.done(IDS.incrementAndGet(), id, null));
        });
        return done.thenApply(v -> id);
    }

    /**
     * A one-sided transfer is over: releases {@code lease} (0 = none) and delivers {@code notification} (may be null);
     * completes when the peer acknowledged, so a transfer to a peer that died fails instead of succeeding.
     */
    public CompletableFuture<Void> done(long lease, byte[] notification) {
        long id = IDS.incrementAndGet();
        CompletableFuture<Void> done = track(id, null);
        send(Frames.done(id, lease, notification), done);
        return done;
    }

    /** Presents the nonce read from the peer's shm probe file; completes when the peer confirmed it. */
    public CompletableFuture<Void> proveShm(byte[] nonce) {
        long id = IDS.incrementAndGet();
        CompletableFuture<Void> done = track(id, null);
        send(Frames.start(Frames.SHM_PROOF, 8, nonce.length).writeLong(id).writeBytes(nonce), done);
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
        vertx.cancelTimer(handshakeTimer);
        ready.completeExceptionally(new TransferException(why));
        for (Pending p : pending.values()) p.done.completeExceptionally(new TransferException(why));
    }

    /** A protocol failure: counted when it is one of ours to count, then the connection closes. */
    private void fail(RuntimeException e) {
        if (e instanceof ProtocolException p && p.reason() != null && !open) refusals.count(p.reason());
        TransferException t = e instanceof TransferException te ? te
                : new TransferException("control connection with " + peer + ": " + e, e);
        if (!open) LOG.log(System.Logger.Level.WARNING, "handshake with " + peer + " failed: " + t.getMessage());
        else LOG.log(System.Logger.Level.WARNING, "control connection with " + peer + ": " + t.getMessage());
        ready.completeExceptionally(t);
        closed = true;
        for (Pending p : pending.values()) p.done.completeExceptionally(t);
        socket.close();
    }

    private void guard(byte type, int headerLength, long payloadLength) {
        if (!open) {
            byte want = server == null ? Frames.CHALLENGE : Frames.PROOF;
            if (type != want && type != Frames.REFUSED) {
                throw new ProtocolException("malformed", peer + " sent " + Frames.name(type) + " instead of " + Frames.name(want));
            }
            if (headerLength > Handshake.MAX_HEADER || payloadLength != 0) {
                throw new ProtocolException("malformed", peer + " sent an oversized handshake");
            }
        } else if (type != Frames.ACK && type != Frames.ERROR && type != Frames.READ_DATA) {
            throw new ProtocolException(null, "unexpected " + Frames.name(type) + " frame from " + peer);
        }
    }

    private FrameDecoder.Sink frame(byte type, ByteBuf h, long payloadLength) {
        switch (type) {
            case Frames.CHALLENGE -> {
                Handshake.Hello s = Handshake.Hello.decode(h);
                Handshake.checkServer(s, peer, expected, hello);
                server = s;
                socket.writeMessage(Handshake.auth(self.secret(), hello, s));
            }
            case Frames.PROOF -> {
                Handshake.verifyProof(self.secret(), hello, server, h);
                open = true;
                vertx.cancelTimer(handshakeTimer);
                ready.complete(this);
            }
            case Frames.REFUSED -> throw new TransferException("peer " + peer + " refused the connection: " + Frames.string(h));
            case Frames.READ_DATA -> {
                Pending p = pending.get(h.readLong());
                int index = h.readInt();
                if (p == null || p.readInto == null || index < 0 || index >= p.readInto.size()) return null;
                MemorySegment dst = p.readInto.get(index);
                if (dst.byteSize() != payloadLength) {
                    p.done.completeExceptionally(new TransferException(peer + " answered a READ with the wrong length"));
                    return null;
                }
                return (chunk, at) -> chunk.getBytes(chunk.readerIndex(), dst.asSlice(at, chunk.readableBytes()).asByteBuffer());
            }
            case Frames.ACK -> complete(h.readLong(), null);
            case Frames.ERROR -> complete(h.readLong(), peer + ": " + Frames.string(h));
            default -> throw new ProtocolException(null, "unexpected " + Frames.name(type) + " frame from " + peer);
        }
        return null;
    }

    private void complete(long id, String error) {
        Pending p = pending.get(id);
        if (p == null) return; // timed out already
        if (error == null) p.done.complete(null);
        else p.done.completeExceptionally(new TransferException(error));
    }
}
