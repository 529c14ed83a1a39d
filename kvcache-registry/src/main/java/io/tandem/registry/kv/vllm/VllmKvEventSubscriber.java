package io.tandem.registry.kv.vllm;

import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.kv.KvEventBatch;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZFrame;
import org.zeromq.ZMQ;
import org.zeromq.ZMQException;
import org.zeromq.ZMsg;

import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * Receives a vLLM worker's KV events where vLLM publishes them ({@code --kv-events-config} with the {@code zmq}
 * publisher): a ZMQ SUB socket connected to the worker's PUB endpoint, taking multipart messages
 * {@code [topic, sequence (8 bytes, big-endian), msgpack payload]}, each adapted by a {@link VllmKvEventAdapter} into a
 * Tandem {@link KvEventBatch} for {@code sink} — the same batches a Tandem worker publishes, so the router's index
 * (gaps, resyncs) treats the vLLM worker like any other. Runs on its own daemon thread; {@link #close()} stops it.
 */
public final class VllmKvEventSubscriber implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(VllmKvEventSubscriber.class.getName());

    static final int HANDSHAKE_MILLIS = 1_000;
    private final String endpoint;
    private final VllmKvEventAdapter adapter;
    private final Consumer<KvEventBatch> sink;
    private final ZContext context = new ZContext(1);
    private final String topic;
    private final Thread thread;
    private volatile boolean closed;
    private volatile long received, rejected; // written by the receiving thread alone, read from any

    /**
     * @param endpoint the vLLM worker's publisher, e.g. {@code tcp://10.0.0.7:5557}
     * @param topic    the topic vLLM publishes under ({@code ""} for all)
     * @param workerId the id its events are indexed under (the id the router knows the worker by)
     */
    public VllmKvEventSubscriber(String endpoint, String topic, String workerId, BlockHasher hasher, Consumer<KvEventBatch> sink) {
        this.endpoint = endpoint;
        this.adapter = new VllmKvEventAdapter(workerId, hasher);
        this.sink = sink;
        this.topic = topic;
        this.thread = Thread.ofPlatform().daemon().name("tandem-vllm-kv-" + workerId).start(this::run);
    }

    /** The socket lives on this thread alone: ZMQ sockets must not change threads. */
    private void run() {
        ZMQ.Socket socket = context.createSocket(SocketType.SUB);
        socket.setReceiveTimeOut(200); // so close() is noticed
        // JeroMQ now and then leaves a fresh connection's handshake stuck (seen here in about 1 connection of 40, the
        // greeting unread in the socket): drop such a connection after a short while, so it reconnects
        socket.setHandshakeIvl(HANDSHAKE_MILLIS);
        socket.subscribe(topic.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        socket.connect(endpoint);
        while (!closed) {
            ZMsg msg;
            try {
                msg = ZMsg.recvMsg(socket);
            } catch (ZMQException | IllegalStateException e) {
                if (!closed) LOG.log(System.Logger.Level.WARNING, "vLLM KV events from " + endpoint + ": " + e);
                return;
            }
            if (msg == null) continue; // receive timeout
            try {
                ZFrame[] frames = msg.toArray(new ZFrame[0]);
                if (frames.length != 3) throw new IllegalArgumentException("expected [topic, seq, payload], got " + frames.length + " frames");
                byte[] seqBytes = frames[1].getData();
                if (seqBytes.length != 8) throw new IllegalArgumentException("sequence frame of " + seqBytes.length + " bytes");
                KvEventBatch batch = adapter.adapt(frames[2].getData(), ByteBuffer.wrap(seqBytes).getLong());
                received++;
                sink.accept(batch);
            } catch (IllegalArgumentException e) {
                rejected++;
                LOG.log(System.Logger.Level.WARNING, "dropping a message from " + endpoint + " that is not a vLLM KV event batch: " + e.getMessage());
            } catch (RuntimeException e) { // the sink failed: keep receiving
                LOG.log(System.Logger.Level.WARNING, "KV event sink failed for a batch from " + endpoint, e);
            } finally {
                msg.destroy();
            }
        }
    }

    /** Batches received and passed on. */
    public long received() {
        return received;
    }

    /** Messages that were not vLLM KV event batches. */
    public long rejected() {
        return rejected;
    }

    @Override
    public void close() {
        closed = true;
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        context.close();
    }
}
