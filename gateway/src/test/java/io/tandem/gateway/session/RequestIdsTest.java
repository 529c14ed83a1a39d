package io.tandem.gateway.session;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RequestIdsTest {

    @Test
    void anIdIsThePrefixAndThirtyTwoHexDigits() {
        String id = RequestIds.next("chatcmpl-");
        assertTrue(id.matches("chatcmpl-[0-9a-f]{32}"), id);
    }

    /** Ids name stream addresses on the event bus: threads with their own generators must not repeat each other. */
    @Test
    void idsDoNotRepeatWithinAThreadOrAcrossThreads() throws InterruptedException {
        int threads = 4, perThread = 20_000;
        Set<String> all = ConcurrentHashMap.newKeySet();
        CountDownLatch done = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            Thread.ofPlatform().start(() -> {
                Set<String> mine = new HashSet<>();
                for (int i = 0; i < perThread; i++) mine.add(RequestIds.next("cmpl-"));
                all.addAll(mine);
                done.countDown();
            });
        }
        done.await();
        assertEquals(threads * perThread, all.size());
    }

    /** Every hex digit of the 128 bits varies: no fixed version nibble as in a UUID, no constant part. */
    @Test
    void everyDigitVaries() {
        String first = RequestIds.next("");
        boolean[] varied = new boolean[32];
        for (int i = 0; i < 200; i++) {
            String id = RequestIds.next("");
            for (int d = 0; d < 32; d++) varied[d] |= id.charAt(d) != first.charAt(d);
        }
        for (int d = 0; d < 32; d++) assertTrue(varied[d], "digit " + d + " never changed");
    }
}
