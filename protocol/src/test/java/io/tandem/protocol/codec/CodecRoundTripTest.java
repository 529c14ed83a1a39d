package io.tandem.protocol.codec;

import io.tandem.protocol.ControlMessage;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.GenerateRequest;
import io.tandem.protocol.RemotePrefillMessage;
import io.tandem.protocol.SamplingParams;
import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;
import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class CodecRoundTripTest {
    private final GenerateRequestCodec requests = new GenerateRequestCodec();
    private final StreamMessageCodec streams = new StreamMessageCodec("s");
    private final ControlMessageCodec controls = new ControlMessageCodec("c");
    private final WorkerRecordCodec records = new WorkerRecordCodec();

    /** Encodes after unrelated leading bytes (as the clustered event bus frames a body) and decodes at that offset. */
    private static <T> T wire(BinaryCodec<T> codec, T value) {
        Buffer b = Buffer.buffer().appendString("frame-header");
        int pos = b.length();
        codec.encodeToWire(b, value);
        T back = codec.decodeFromWire(pos, b);
        assertEquals(value, back);
        assertNotSame(value, back);
        return back;
    }

    @Test
    void generateRequestWithEverySamplingField() {
        var sampling = new SamplingParams(128, 0.7f, 0.9f, 40, 0.05f, -42L, 1.5f, -2f, new int[] {7, 99999}, true, 5);
        var req = new GenerateRequest("req-1", "fortune", new int[] {1, 2, 3, Integer.MAX_VALUE, 0, -1}, sampling,
                "tandem.stream.req-1", 64);
        GenerateRequest back = wire(requests, req);
        assertEquals(-42L, back.sampling().seed());
        assertTrue(back.sampling().ignoreEos());
        assertArrayEquals(new int[] {7, 99999}, back.sampling().stopTokenIds());
    }

    @Test
    void generateRequestEdgeCases() {
        // null seed, null model, empty prompt and stop ids, unicode ids, zero credits
        var req = new GenerateRequest("ид-请求-🚀", null, new int[0], SamplingParams.greedy(1), "tandem.stream.ид-请求-🚀", 0);
        GenerateRequest back = wire(requests, req);
        assertNull(back.sampling().seed());
        assertNull(back.model());
        assertEquals("ид-请求-🚀", back.requestId());
        assertEquals(0, back.promptTokens().length);
    }

    @Test
    void largePromptRoundTripsCompactly() {
        int[] prompt = new Random(1).ints(32_768, 0, 150_000).toArray();
        var req = new GenerateRequest("r", "m", prompt, SamplingParams.greedy(16), "a", 16);
        wire(requests, req);
        // 4 bytes per token plus a small fixed part: no per-element boxing or text
        assertTrue(requests.encode(req).length() < prompt.length * 4 + 200);
    }

    @Test
    void tokensWithAndWithoutLogprobs() {
        wire(streams, new StreamMessage.Tokens("r", 0, new int[] {5}));
        wire(streams, new StreamMessage.Tokens("r", 7, new int[0]));
        var lps = new TokenLogprobs[] {
                new TokenLogprobs(5, -0.25f, new int[] {5, 6}, new float[] {-0.25f, -1.5f}),
                new TokenLogprobs(9, Float.NEGATIVE_INFINITY, new int[0], new float[0]),
                new TokenLogprobs(3, Float.NaN, null, null)};
        StreamMessage back = wire(streams, new StreamMessage.Tokens("r", Long.MAX_VALUE, new int[] {5, 9, 3}, lps));
        assertTrue(Float.isNaN(((StreamMessage.Tokens) back).logprobs()[2].logprob()));
        assertNull(((StreamMessage.Tokens) back).logprobs()[2].topTokens());
    }

    @Test
    void terminalMessages() {
        for (FinishReason reason : FinishReason.values()) {
            wire(streams, new StreamMessage.Finished("r", reason, new Usage(10, 20, 3)));
        }
        wire(streams, new StreamMessage.Finished("r", FinishReason.STOP, null));
        for (ErrorCode code : ErrorCode.values()) {
            wire(streams, new StreamMessage.Failed("r", code, "boom — ünïcödé"));
        }
        wire(streams, new StreamMessage.Failed("r", ErrorCode.INTERNAL, null));
    }

    @Test
    void remotePrefillMessages() {
        var codec = new RemotePrefillCodec("t");
        var sampling = new SamplingParams(64, 0.7f, 0.9f, 40, 0.05f, 7L, 0f, 0f, new int[] {2}, false, 3);
        var req = new RemotePrefillMessage.Request("r1", new int[] {1, 2, 3, 4}, sampling, "decode-1", new int[] {9, 4}, 16,
                0xfeedL, -7L);
        var back = (RemotePrefillMessage.Request) codec.decode(codec.encode(req));
        assertArrayEquals(req.promptTokens(), back.promptTokens());
        assertArrayEquals(req.blockTable(), back.blockTable());
        assertEquals(sampling, back.sampling());
        assertEquals("decode-1", back.decodeWorkerId());
        assertEquals(16, back.cachedTokens());
        var lp = new TokenLogprobs(5, -0.25f, new int[] {5, 6}, new float[] {-0.25f, -2f});
        var res = new RemotePrefillMessage.Result("r1", 5, lp, 32, 1L << 33);
        assertEquals(res, codec.decode(codec.encode(res)));
        var bare = new RemotePrefillMessage.Result("r2", 0, null, 0, 0);
        assertEquals(bare, codec.decode(codec.encode(bare)));
    }

    @Test
    void controlMessages() {
        wire(controls, new ControlMessage.Credit("r", 0));
        wire(controls, new ControlMessage.Credit("r", Integer.MAX_VALUE));
        wire(controls, new ControlMessage.Cancel("r", "client disconnected"));
        wire(controls, new ControlMessage.Cancel("r", null));
    }

    @Test
    void workerRecords() {
        wire(records, new WorkerRecord("decode-1a2b", WorkerRole.DECODE, "fortune", "node-1", "127.0.0.1", 8081, 2048,
                new WorkerLoad(1, 2, 3, 4), 1_700_000_000_000L, -7_345_678_901_234L,
                io.tandem.protocol.ClusterContract.of("0123456789abcdef0123456789abcdef", 32, "f16", "22x4x64"), 1_699_999_999_000L));
        wire(records, new WorkerRecord("w", WorkerRole.PREFILL, "m", null, null, 0, 0, null, 0, 0, null, 0));
        wire(records, new WorkerRecord("d", WorkerRole.BOTH, "m", "n", "h", 1, 2,
                new WorkerLoad(3, 4, 5, 6, true, 1234, 25_000.5, 9.75), 7, 8, null, 9));
    }

    @Test
    void workerRecordWithoutMeasuredRatesReadsAsNotMeasured() {
        // what a worker of the same protocol version without the rate fields writes: the record up to registeredMillis
        WorkerLoad measured = new WorkerLoad(3, 4, 5, 6, false, 1234, 25_000.5, 9.75);
        WorkerRecord rec = new WorkerRecord("d", WorkerRole.DECODE, "m", "n", "h", 1, 2, measured, 7, 8, null, 9);
        Buffer full = records.encode(rec);
        Buffer old = full.getBuffer(0, full.length() - 24); // without the appended long and two doubles
        WorkerRecord read = records.decode(old);
        assertEquals(new WorkerLoad(3, 4, 5, 6), read.load());
        assertFalse(read.load().measured());
        assertEquals(9, read.registeredMillis());
    }

    @Test
    void otherVersionIsRefusedClearly() {
        Buffer b = controls.encode(new ControlMessage.Credit("r", 1));
        b.setByte(0, (byte) 9);
        var e = assertThrows(IllegalStateException.class, () -> controls.decode(b));
        assertTrue(e.getMessage().contains("wire version 9"), e.getMessage());
    }

    @Test
    void corruptLengthIsRefusedClearly() {
        Buffer b = requests.encode(new GenerateRequest("r", "m", new int[] {1}, SamplingParams.greedy(1), "a", 1));
        b.setInt(1, 1 << 30); // requestId length far past the end
        var e = assertThrows(IllegalStateException.class, () -> requests.decode(b));
        assertTrue(e.getMessage().contains("exceeds"), e.getMessage());
    }

    @Test
    void aMessageCutAnywhereIsRefusedClearly() {
        Buffer whole = requests.encode(new GenerateRequest("r", "m", new int[] {1, 2, 3}, SamplingParams.greedy(4), "a", 8));
        for (int cut = 0; cut < whole.length(); cut++) {
            Buffer truncated = whole.getBuffer(0, cut);
            var e = assertThrows(IllegalStateException.class, () -> requests.decode(truncated), "cut at " + cut);
            assertTrue(e.getMessage().contains("corrupt") || e.getMessage().contains("truncated")
                    || e.getMessage().contains("exceeds"), e.getMessage());
        }
    }
}
