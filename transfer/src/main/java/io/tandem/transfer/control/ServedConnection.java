package io.tandem.transfer.control;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.Notification;
import io.tandem.transfer.TransferException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The accepting side of a control connection: answers the peer's HELLO with a challenge (see {@link Handshake}) and,
 * once the peer proved itself,
 * serves its requests against this agent's registered memory: WRITE frames (each checked against the fences before a
 * byte lands), READs, leases for one-sided writes, DONE, shm proofs; notifications ride on WRITE_END and DONE. Before the handshake completed
 * any other frame, a bad or oversized handshake, a wrong MAC or the handshake timeout closes the connection and is
 * counted. Received payloads are copied from Netty's buffer straight into registered memory. Runs on the
 * connection's event loop (its maps need no locks); a closed connection releases the leases it held.
 */
public final class ServedConnection {
    private static final System.Logger LOG = System.getLogger(ServedConnection.class.getName());
    private static final int MAX_NOTIFICATION = 16 << 20;
    private static final int MAX_SHM_NONCE = 64;

    private final NetSocketInternal socket;
    private final Served served;
    private final Handshake.Hello hello;
    private final String remote;
    /** Transfers whose WRITE frames were refused (bad descriptor, fence), answered with ERROR at WRITE_END. */
    private final Map<Long, String> writeErrors = new HashMap<>();
    /** Leases this peer holds, by lease id (pinned grants; {@code null} for an admitted unfenced write). */
    private final Map<Long, FenceTable.Grant> leases = new HashMap<>();
    private final long handshakeTimer;
    private final Vertx vertx;
    /** The peer's HELLO, once received; {@code peer} is set once it proved itself. */
    private Handshake.Hello client;
    private String peer;
    private boolean refused;
    private volatile Runnable closeListener = () -> { };

    public ServedConnection(NetSocket socket, Served served, Vertx vertx) {
        this.socket = (NetSocketInternal) socket;
        this.served = served;
        this.vertx = vertx;
        this.remote = String.valueOf(socket.remoteAddress());
        this.hello = Handshake.Hello.of(served.agent(), served.identity(), served.secret(), served.requireFences());
        FrameDecoder decoder = new FrameDecoder(this::guard, this::frame);
        this.socket.messageHandler(msg -> {
            try {
                if (msg instanceof ByteBuf b && !refused) decoder.decode(b);
            } catch (RuntimeException e) {
                String reason = e instanceof ProtocolException p && p.reason() != null ? p.reason() : "malformed";
                if (peer == null) refuse(reason, e.getMessage());
                else violation(e.getMessage() != null ? e.getMessage() : e.toString());
            } finally {
                ReferenceCountUtil.release(msg);
            }
        });
        this.socket.closeHandler(v -> closed());
        this.socket.exceptionHandler(e -> LOG.log(System.Logger.Level.DEBUG, "control connection from " + remote, e));
        this.handshakeTimer = vertx.setTimer(served.handshakeTimeout().toMillis(), t -> {
            if (peer == null) refuse("timeout", "no handshake within " + served.handshakeTimeout().toMillis() + " ms");
        });
    }

    /** Runs {@code listener} once the connection closed (after its leases were released). */
    public ServedConnection onClose(Runnable listener) {
        closeListener = listener;
        return this;
    }

    /** The authenticated peer's agent name, or {@code null} before the handshake completed. */
    public String peer() {
        return peer;
    }

    public Future<Void> close() {
        return socket.close();
    }

    private void guard(byte type, int headerLength, long payloadLength) {
        if (peer == null) {
            byte want = client == null ? Frames.HELLO : Frames.AUTH;
            if (type != want) {
                boolean handshakeFrame = type == Frames.HELLO || type == Frames.AUTH;
                throw new ProtocolException(handshakeFrame ? "malformed" : "frame_before_handshake",
                        Frames.name(type) + " frame before the handshake completed (expected " + Frames.name(want) + ")");
            }
            if (headerLength > Handshake.MAX_HEADER || payloadLength != 0) {
                throw new ProtocolException("malformed", "oversized handshake: header " + headerLength + ", payload " + payloadLength);
            }
        } else if (!isRequest(type)) {
            throw new ProtocolException(null, "unexpected " + Frames.name(type) + " frame from " + peer);
        }
    }

    private static boolean isRequest(byte type) {
        return switch (type) {
            case Frames.WRITE, Frames.WRITE_END, Frames.READ, Frames.LEASE, Frames.DONE, Frames.SHM_PROOF -> true;
            default -> false;
        };
    }

    private FrameDecoder.Sink frame(byte type, ByteBuf h, long payloadLength) {
        switch (type) {
            case Frames.HELLO -> {
                client = Handshake.readHello(served.secret(), h);
                socket.writeMessage(Handshake.challenge(hello));
            }
            case Frames.AUTH -> authenticate(h);
            case Frames.WRITE -> {
                return write(h.readLong(), h.readLong(), h.readInt(), h.readLong(), payloadLength);
            }
            case Frames.WRITE_END -> {
                long id = h.readLong();
                boolean notifies = h.readBoolean();
                return collect(payloadLength, MAX_NOTIFICATION, p -> {
                    String error = writeErrors.remove(id);
                    if (error == null && notifies) served.notifications().accept(new Notification(peer, p));
                    socket.writeMessage(error == null ? Frames.idOnly(Frames.ACK, id) : Frames.error(id, error));
                });
            }
            case Frames.READ -> serveRead(h);
            case Frames.LEASE -> lease(h);
            case Frames.DONE -> {
                long id = h.readLong(), lease = h.readLong();
                boolean notifies = h.readBoolean();
                return collect(payloadLength, MAX_NOTIFICATION, p -> done(id, lease, notifies ? p : null));
            }
            case Frames.SHM_PROOF -> {
                long id = h.readLong();
                return collect(payloadLength, MAX_SHM_NONCE, nonce -> socket.writeMessage(served.shmProof().test(nonce)
                        ? Frames.idOnly(Frames.ACK, id)
                        : Frames.error(id, "shm proof failed: the nonce read is not the one " + served.agent() + " wrote into its probe file")));
            }
            default -> throw new ProtocolException(null, "unexpected " + Frames.name(type) + " frame");
        }
        return null;
    }

    private void authenticate(ByteBuf h) {
        ByteBuf proof = Handshake.verifyAuth(served.secret(), client, hello, h);
        vertx.cancelTimer(handshakeTimer);
        peer = client.agent();
        socket.writeMessage(proof);
        LOG.log(System.Logger.Level.DEBUG, "control connection from " + remote + " authenticated as " + client.describe());
    }

    private FrameDecoder.Sink write(long id, long token, int region, long offset, long length) {
        if (writeErrors.containsKey(id)) return null; // an earlier frame of this transfer was refused: drop the rest
        MemorySegment dst;
        try {
            dst = served.memory().slice(region, offset, length);
        } catch (TransferException e) {
            writeErrors.put(id, e.getMessage());
            return null;
        }
        if (token == 0) {
            if (!served.requireFences()) return into(dst);
            fenced(id, "unfenced write refused: agent " + served.agent() + " requires fenced writes");
            return null;
        }
        FenceTable.Grant grant = served.fences().admit(token, region, offset, length);
        if (grant == null) {
            fenced(id, FenceTable.refusal(token, region, offset, length));
            return null;
        }
        return new FrameDecoder.Sink() {
            private boolean dropped;

            @Override
            public void accept(ByteBuf chunk, long at) {
                if (dropped) return;
                if (!grant.enter()) { // revoked while the frame streams in: not one more byte
                    dropped = true;
                    fenced(id, "write refused by fence: token " + Long.toUnsignedString(token, 16) + " was revoked during the write");
                    return;
                }
                try {
                    chunk.getBytes(chunk.readerIndex(), dst.asSlice(at, chunk.readableBytes()).asByteBuffer());
                } finally {
                    grant.exit();
                }
            }
        };
    }

    /** Refuses a WRITE transfer by fence: counted once per transfer. */
    private void fenced(long id, String why) {
        if (writeErrors.putIfAbsent(id, why) == null) served.fences().countFenced();
    }

    private void lease(ByteBuf h) {
        long id = h.readLong(), token = h.readLong();
        int n = h.readInt();
        List<MemoryDescriptor> targets = new ArrayList<>(n);
        try {
            for (int i = 0; i < n; i++) {
                MemoryDescriptor d = new MemoryDescriptor(h.readInt(), h.readLong(), h.readLong());
                served.memory().slice(d.region(), d.offset(), d.length());
                targets.add(d);
            }
        } catch (TransferException | IllegalArgumentException e) {
            socket.writeMessage(Frames.error(id, e.getMessage()));
            return;
        }
        String refusal = null;
        if (token == 0) {
            if (served.requireFences()) refusal = "unfenced write refused: agent " + served.agent() + " requires fenced writes";
            else leases.put(id, null);
        } else {
            FenceTable.Grant g = served.fences().lease(token, targets);
            if (g != null) leases.put(id, g);
            else {
                MemoryDescriptor first = targets.isEmpty() ? new MemoryDescriptor(0, 0, 1) : targets.getFirst();
                refusal = FenceTable.refusal(token, first.region(), first.offset(), first.length())
                        + (targets.size() > 1 ? " (or another of " + targets.size() + " ranges)" : "");
            }
        }
        if (refusal != null) served.fences().countFenced();
        socket.writeMessage(refusal == null ? Frames.idOnly(Frames.ACK, id) : Frames.error(id, refusal));
    }

    private void done(long id, long lease, byte[] notification) {
        if (lease != 0 && leases.containsKey(lease)) {
            FenceTable.Grant g = leases.remove(lease);
            if (g != null) g.exit();
        }
        if (notification != null) served.notifications().accept(new Notification(peer, notification));
        socket.writeMessage(Frames.idOnly(Frames.ACK, id));
    }

    private void serveRead(ByteBuf h) {
        long id = h.readLong();
        int n = h.readInt();
        MemorySegment[] slices = new MemorySegment[n];
        try {
            for (int i = 0; i < n; i++) slices[i] = served.memory().slice(h.readInt(), h.readLong(), h.readLong());
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

    private static FrameDecoder.Sink into(MemorySegment dst) {
        return (chunk, at) -> chunk.getBytes(chunk.readerIndex(), dst.asSlice(at, chunk.readableBytes()).asByteBuffer());
    }

    /** Gathers a small payload (a notification, a nonce) and hands it over whole. */
    private static FrameDecoder.Sink collect(long length, int max, java.util.function.Consumer<byte[]> then) {
        if (length > max) throw new ProtocolException(null, "payload of " + length + " bytes, at most " + max + " allowed");
        byte[] payload = new byte[(int) length];
        return new FrameDecoder.Sink() {
            @Override
            public void accept(ByteBuf chunk, long at) {
                chunk.getBytes(chunk.readerIndex(), payload, (int) at, chunk.readableBytes());
            }

            @Override
            public void end() {
                then.accept(payload);
            }
        };
    }

    private void refuse(String reason, String message) {
        if (refused) return;
        refused = true;
        vertx.cancelTimer(handshakeTimer);
        served.refusals().count(reason);
        LOG.log(System.Logger.Level.WARNING, "refused control connection from " + remote + " (" + reason + "): " + message);
        String text = reason + ": " + message;
        if (text.length() > 1000) text = text.substring(0, 1000);
        socket.writeMessage(Frames.of(Frames.REFUSED, text.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .onComplete(ar -> socket.close());
    }

    private void violation(String message) {
        LOG.log(System.Logger.Level.WARNING, "control connection with " + peer + " at " + remote + " closed: " + message);
        refused = true;
        socket.close();
    }

    private void closed() {
        vertx.cancelTimer(handshakeTimer);
        // the peer can no longer write under its leases (or its process is gone): revocations may complete
        for (FenceTable.Grant g : leases.values()) if (g != null) g.exit();
        leases.clear();
        closeListener.run();
    }
}
