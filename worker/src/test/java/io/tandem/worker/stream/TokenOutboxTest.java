package io.tandem.worker.stream;

import io.tandem.protocol.StreamMessage;
import io.tandem.protocol.TokenLogprobs;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class TokenOutboxTest {

    @Test
    void sendsOnlyWhatTheCreditAllowsInOrderWithIncreasingSeq() {
        TokenOutbox box = new TokenOutbox(3, 16);
        for (int t = 10; t < 15; t++) assertTrue(box.add(t, null));
        StreamMessage.Tokens first = box.take("r");
        assertArrayEquals(new int[] {10, 11, 12}, first.tokens());
        assertEquals(0, first.seq());
        assertNull(first.logprobs());
        assertTrue(box.exhausted());
        assertEquals(2, box.pending());
        assertNull(box.take("r"), "no credit, nothing to send");

        box.grant(10);
        StreamMessage.Tokens second = box.take("r");
        assertArrayEquals(new int[] {13, 14}, second.tokens());
        assertEquals(1, second.seq());
        assertEquals(8, box.credits());
        assertFalse(box.exhausted());
        assertNull(box.take("r"), "credit but nothing buffered");
    }

    @Test
    void zeroInitialCreditIsExhaustedAtOnce() {
        TokenOutbox box = new TokenOutbox(0, 4);
        assertTrue(box.exhausted());
        box.add(1, null);
        assertNull(box.take("r"));
        box.grant(0);
        box.grant(-5);
        assertTrue(box.exhausted(), "non-positive grants change nothing");
        box.grant(1);
        assertArrayEquals(new int[] {1}, box.take("r").tokens());
    }

    @Test
    void isBoundedAndSaysSoInsteadOfDropping() {
        TokenOutbox box = new TokenOutbox(0, 3);
        assertTrue(box.add(1, null));
        assertTrue(box.add(2, null));
        assertTrue(box.add(3, null));
        assertFalse(box.add(4, null));
        assertEquals(3, box.pending());
        box.grant(100);
        assertArrayEquals(new int[] {1, 2, 3}, box.take("r").tokens(), "what was accepted is all still there");
    }

    @Test
    void onlyTokensBeyondTheCreditCountAgainstTheCapacity() {
        TokenOutbox box = new TokenOutbox(10, 2);
        for (int t = 0; t < 12; t++) assertTrue(box.add(t, null), "token " + t);
        assertFalse(box.add(12, null));
        assertEquals(10, box.take("r").tokens().length);
        assertFalse(box.add(12, null), "still two uncredited tokens waiting");
        box.grant(1);
        assertTrue(box.add(12, null));
    }

    @Test
    void logprobsTravelWithTheirTokens() {
        TokenOutbox box = new TokenOutbox(1, 8);
        TokenLogprobs a = new TokenLogprobs(5, -0.1f, new int[] {5}, new float[] {-0.1f});
        TokenLogprobs b = new TokenLogprobs(6, -0.2f, new int[] {6}, new float[] {-0.2f});
        box.add(5, a);
        box.add(6, b);
        assertArrayEquals(new TokenLogprobs[] {a}, box.take("r").logprobs());
        box.grant(1);
        assertArrayEquals(new TokenLogprobs[] {b}, box.take("r").logprobs());
    }

    @Test
    void hugeGrantsDoNotOverflow() {
        TokenOutbox box = new TokenOutbox(Integer.MAX_VALUE, 4);
        for (int i = 0; i < 10; i++) box.grant(Integer.MAX_VALUE);
        assertTrue(box.credits() > 0);
        box.add(1, null);
        assertNotNull(box.take("r"));
    }

    @Test
    void discardDropsBufferedTokensOnly() {
        TokenOutbox box = new TokenOutbox(0, 4);
        box.add(1, null);
        box.discard();
        assertEquals(0, box.pending());
        box.grant(1);
        assertNull(box.take("r"));
        box.add(2, null);
        assertEquals(0, box.take("r").seq(), "seq counts messages sent, not tokens dropped");
    }
}
