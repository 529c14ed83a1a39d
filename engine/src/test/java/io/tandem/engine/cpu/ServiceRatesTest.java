package io.tandem.engine.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ServiceRatesTest {
    @Test
    void learnsDecodeStepAndPrefillRateFromMixedSteps() {
        ServiceRates r = new ServiceRates();
        assertEquals(0, r.prefillTokensPerSecond());
        assertEquals(0, r.decodeStepNanos());
        // decode steps of 8 ms; prompt tokens at 25 µs each (40 000 tokens/s), alone or beside 8 ms of decodes
        for (int i = 0; i < 50; i++) {
            r.observe(0, 6, 8_000_000);
            r.observe(400, 0, 10_000_000);
            r.observe(800, 6, 8_000_000 + 20_000_000);
        }
        assertEquals(8_000_000, r.decodeStepNanos(), 1);
        assertEquals(40_000, r.prefillTokensPerSecond(), 1);
    }

    @Test
    void followsAChangeOfSpeed() {
        ServiceRates r = new ServiceRates();
        for (int i = 0; i < 50; i++) r.observe(1000, 0, 10_000_000); // 100 000 tokens/s
        for (int i = 0; i < 100; i++) r.observe(1000, 0, 20_000_000); // the machine got busy: 50 000
        assertEquals(50_000, r.prefillTokensPerSecond(), 500);
    }

    @Test
    void ignoresEmptyOrUntimedSteps() {
        ServiceRates r = new ServiceRates();
        r.observe(0, 0, 5);
        r.observe(10, 0, 0);
        assertEquals(0, r.prefillTokensPerSecond());
        assertEquals(0, r.decodeStepNanos());
    }
}
