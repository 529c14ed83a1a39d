package io.tandem.engine.sample;

import io.tandem.protocol.FinishReason;
import io.tandem.protocol.SamplingParams;
import org.junit.jupiter.api.Test;

import static io.tandem.engine.sample.StopCondition.Decision.*;
import static org.junit.jupiter.api.Assertions.*;

class StopConditionTest {
    private static final int[] EOG = {2, 151645};

    static SamplingParams params(int maxTokens, int[] stopIds, boolean ignoreEos) {
        return new SamplingParams(maxTokens, 0f, 1f, 0, 0f, null, 0f, 0f, stopIds, ignoreEos, -1);
    }

    @Test
    void endOfGenerationStopsWithoutEmitting() {
        var stop = new StopCondition(params(10, new int[0], false), EOG, 5, 0);
        assertEquals(CONTINUE, stop.check(7, 1));
        assertEquals(STOP, stop.check(151645, 2));
        assertEquals(STOP, stop.check(2, 3));
        assertFalse(STOP.emitToken());
        assertEquals(FinishReason.STOP, STOP.reason());
        assertTrue(CONTINUE.emitToken());
        assertFalse(CONTINUE.finished());
    }

    @Test
    void ignoreEosKeepsGoingButStopIdsStillApply() {
        var stop = new StopCondition(params(10, new int[] {99, 7}, true), EOG, 5, 0);
        assertEquals(CONTINUE, stop.check(2, 1));
        assertEquals(STOP, stop.check(7, 2));
        assertEquals(STOP, stop.check(99, 3));
    }

    @Test
    void maxTokensAndContextEndWithLengthAfterEmitting() {
        var stop = new StopCondition(params(3, new int[0], false), EOG, 5, 0);
        assertEquals(CONTINUE, stop.check(9, 2));
        assertEquals(LENGTH, stop.check(9, 3));
        assertTrue(LENGTH.emitToken());
        assertEquals(FinishReason.LENGTH, LENGTH.reason());
        assertEquals(STOP, stop.check(2, 3), "an end token on the last allowed step is a stop, as in vLLM");
        var context = new StopCondition(params(100, new int[0], false), EOG, 14, 16);
        assertEquals(CONTINUE, context.check(9, 1));
        assertEquals(LENGTH, context.check(9, 2), "14 prompt + 2 generated fill a 16-token context");
    }

    @Test
    void noEndIdsKnown() {
        var stop = new StopCondition(params(5, null, false), null, 1, 0);
        assertEquals(CONTINUE, stop.check(2, 1));
    }
}
