package io.tandem.gateway.soak;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

class SseStreamTest {
    private static final String CHUNK = "data: {\"id\":\"c\",\"object\":\"text_completion\",\"choices\":[{\"index\":0,\"text\":\" x\",\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}";
    private static final String LAST = "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"length\"}],\"usage\":null}";

    private static String usage(int tokens) {
        return "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":7,\"completion_tokens\":" + tokens + ",\"total_tokens\":" + (7 + tokens) + "}}";
    }

    private static SseStream feed(int expected, String... lines) {
        SseStream s = new SseStream(expected);
        for (String l : lines) s.line(l);
        return s;
    }

    @Test
    void aFullStreamIsCompleted() {
        SseStream s = feed(3, CHUNK, "", CHUNK + "\r", "", ": keep-alive", CHUNK, "", LAST, "", usage(3), "", "data: [DONE]", "");
        assertEquals(new StreamOutcome.Completed(4), s.ended());
    }

    @Test
    void aStreamWithoutDoneOrWithTheWrongCountFails() {
        assertEquals("no [DONE]", ((StreamOutcome.Failed) feed(2, CHUNK, CHUNK).ended()).kind());
        assertEquals("token count", ((StreamOutcome.Failed) feed(3, CHUNK, CHUNK, LAST, usage(2), "data: [DONE]").ended()).kind());
        assertEquals("finish reason", ((StreamOutcome.Failed) feed(2, CHUNK, CHUNK, usage(2), "data: [DONE]").ended()).kind());
    }

    @Test
    void anErrorEventFailsWhateverFollows() {
        StreamOutcome o = feed(2, CHUNK, "data: {\"error\":{\"message\":\"worker gone\",\"type\":\"server_error\"}}", LAST, usage(2), "data: [DONE]").ended();
        StreamOutcome.Failed f = assertInstanceOf(StreamOutcome.Failed.class, o);
        assertEquals("error event", f.kind());
        assertEquals(true, f.detail().contains("worker gone"), f.detail());
    }

    @Test
    void chunksCountContentAsItArrives() {
        SseStream s = feed(10, CHUNK, "", CHUNK);
        assertEquals(2, s.chunks());
    }
}
