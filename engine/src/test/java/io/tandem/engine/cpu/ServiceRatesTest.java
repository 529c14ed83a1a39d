package io.tandem.engine.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ServiceRatesTest {
    @Test
    void learnsDecodeStepAndPrefillRateFromMixedSteps() {
        ServiceRates r = new ServiceRates();
        assertEquals(0, r.prefillTokensPerSecond());
        assertEquals(0, r.decodeStepNanos());
        // decode steps of 8 ms; prompt tokens at 25 µs each (40 000 tokens/s) on top of a step's fixed 8 ms
        for (int i = 0; i < 50; i++) {
            r.observe(0, 6, 8_000_000);
            r.observe(400, 0, 8_000_000 + 10_000_000);
            r.observe(800, 6, 8_000_000 + 20_000_000);
        }
        assertEquals(8_000_000, r.decodeStepNanos(), 1);
        assertEquals(40_000, r.prefillTokensPerSecond(), 1);
    }

    @Test
    void theJitsFirstStepsAreNotLearnt() {
        ServiceRates r = new ServiceRates();
        for (int i = 0; i < ServiceRates.WARMUP_STEPS; i++) r.observe(5, 0, 500_000_000); // cold: 5 tokens in 0.5 s
        assertEquals(0, r.prefillTokensPerSecond());
        r.observe(0, 1, 2_000_000);
        r.observe(100, 0, 2_000_000 + 1_000_000);
        assertEquals(100_000, r.prefillTokensPerSecond(), 1);
    }

    @Test
    void followsAChangeOfSpeed() {
        ServiceRates r = new ServiceRates();
        for (int i = 0; i < 50; i++) r.observe(1000, 0, 10_000_000); // 100 000 tokens/s
        for (int i = 0; i < 30; i++) r.observe(1000, 0, 20_000_000); // the machine got busy: 50 000
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
