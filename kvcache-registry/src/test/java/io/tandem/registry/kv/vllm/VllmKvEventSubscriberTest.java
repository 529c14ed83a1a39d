package io.tandem.registry.kv.vllm;

import io.tandem.protocol.BlockHasher;
import io.tandem.protocol.kv.KvEventBatch;
import io.tandem.registry.kv.KvIndex;
import io.tandem.registry.kv.KvIndexFeed;
import org.junit.jupiter.api.Test;
import org.zeromq.SocketType;
import org.zeromq.ZContext;
import org.zeromq.ZMQ;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A ZMQ PUB socket sending exactly what vLLM's ZMQ publisher sends — multipart {@code [topic, seq (8 bytes
 * big-endian), msgpack batch]} — reaches the router's index through the subscriber: the blocks are found by Tandem's
 * own hashes of the prompt, a removal is applied, and a message that is not a batch is dropped, not fatal.
 */
class VllmKvEventSubscriberTest {
    private static final BlockHasher HASHER = new BlockHasher("some-model", 16);
    private static final double TS = 1700000000.0;

    @Test
    void eventsPublishedOverZmqReachTheIndex() throws Exception {
        int[] prompt = IntStream.range(500, 548).toArray(); // three blocks
        List<KvEventBatch> batches = new CopyOnWriteArrayList<>();
        BlockingQueue<KvEventBatch> arrivals = new LinkedBlockingQueue<>();
        KvIndex index = new KvIndex();
        KvIndexFeed feed = new KvIndexFeed(index, w -> { }, 0);
        try (ZContext ctx = new ZContext(1); ZMQ.Socket pub = ctx.createSocket(SocketType.PUB)) {
            int port = pub.bindToRandomPort("tcp://127.0.0.1");
            try (VllmKvEventSubscriber sub = new VllmKvEventSubscriber("tcp://127.0.0.1:" + port, "kv", "vllm-0", HASHER,
                    b -> {
                        batches.add(b);
                        synchronized (feed) {
                            feed.onBatch(b);
                        }
                        arrivals.add(b);
                    })) {
                // PUB drops messages until the subscription has reached it (ZMQ's slow joiner): publish a harmless
                // probe until one arrives; from then on the connection delivers everything, in order
                long seq = 0;
                long deadline = System.nanoTime() + 20_000_000_000L;
                KvEventBatch first = null;
                while (first == null) {
                    if (System.nanoTime() > deadline) throw new AssertionError("the subscriber never received anything");
                    send(pub, "kv", seq++, VllmKvEventAdapterTest.batch(TS, p -> p.packArrayHeader(0), 0));
                    first = arrivals.poll(50, TimeUnit.MILLISECONDS); // the next probe if this one was dropped
                }
                // seq is past every probe sent: a probe still in flight cannot make the batches below look like duplicates
                send(pub, "kv", seq++, VllmKvEventAdapterTest.batch(TS, p -> {
                    VllmKvEventAdapterTest.stored(p, new long[] {11, 12}, null, Arrays.copyOfRange(prompt, 0, 32));
                    VllmKvEventAdapterTest.stored(p, new long[] {13}, 12L, Arrays.copyOfRange(prompt, 32, 48));
                }, 2));
                send(pub, "other-topic", 0, VllmKvEventAdapterTest.batch(TS, p -> VllmKvEventAdapterTest.stored(p, new long[] {99}, null, Arrays.copyOfRange(prompt, 0, 16)), 1));
                pub.sendMore("kv");
                pub.send("not three frames");
                send(pub, "kv", seq++, VllmKvEventAdapterTest.batch(TS, p -> p.packArrayHeader(3).packString("BlockRemoved").packArrayHeader(1).packLong(13).packString("GPU"), 1));
                awaitRemoval(arrivals, batches);
                long[] ours = HASHER.hashBlocks(prompt);
                synchronized (feed) {
                    assertEquals(Map.of("vllm-0", 2), index.prefixBlocks(ours), "blocks 0-1 indexed by Tandem's hashes; block 2 removed");
                }
                assertEquals(1, sub.rejected(), "the malformed message was dropped");
                assertTrue(batches.stream().allMatch(b -> b.workerId().equals("vllm-0")));
            }
        }
    }

    /** Takes arrivals until the removal, the last batch sent (one connection delivers in order). */
    private static void awaitRemoval(BlockingQueue<KvEventBatch> arrivals, List<KvEventBatch> batches) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (true) {
            KvEventBatch b = arrivals.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (b == null) throw new AssertionError("the removal never arrived: " + batches);
            if (b.events().stream().anyMatch(e -> e instanceof io.tandem.protocol.kv.KvEvent.BlocksRemoved)) return;
        }
    }

    private static void send(ZMQ.Socket pub, String topic, long seq, byte[] payload) {
        pub.sendMore(topic);
        pub.sendMore(ByteBuffer.allocate(8).putLong(seq).array());
        pub.send(payload);
    }
}
