package io.tandem.worker.stream;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CreditGateTest {
    private final RecordingEngine engine = new RecordingEngine();

    @Test
    void pausesWhenTheCreditIsSpentAndResumesOnlyWhenItIsPositiveAgain() {
        CreditGate gate = new CreditGate(engine, "r", 2);
        gate.start();
        assertEquals(List.of(), engine.calls);
        gate.produced();
        gate.produced();
        assertEquals(List.of("pause"), engine.calls);
        gate.produced(); // a step already under way: one token over
        gate.granted(1); // pays the debt only
        assertEquals(List.of("pause"), engine.calls);
        gate.granted(1);
        assertEquals(List.of("pause", "resume"), engine.calls);
        assertFalse(gate.paused());
        gate.granted(0);
        gate.granted(-3);
        assertEquals(List.of("pause", "resume"), engine.calls);
    }

    @Test
    void zeroInitialCreditPausesAtStart() {
        CreditGate gate = new CreditGate(engine, "r", 0);
        gate.start();
        assertTrue(gate.paused());
        assertEquals(List.of("pause"), engine.calls);
    }

    @Test
    void concurrentProductionAndGrantsEndInTheRightState() throws Exception {
        CreditGate gate = new CreditGate(engine, "r", 0);
        gate.start();
        Thread producer = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 100_000; i++) gate.produced();
        });
        for (int i = 0; i < 100_000; i++) gate.granted(1);
        producer.join();
        assertTrue(gate.paused(), "credit back to exactly zero: paused");
        gate.granted(1);
        assertFalse(gate.paused());
        assertEquals("resume", engine.calls.get(engine.calls.size() - 1));
        // pause and resume strictly alternate: no call lost or doubled by the race
        for (int i = 1; i < engine.calls.size(); i++) assertNotEquals(engine.calls.get(i - 1), engine.calls.get(i));
    }
}
