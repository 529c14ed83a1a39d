package io.tandem.engine.cpu;

import io.tandem.engine.EngineRejectedException;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.forward.TestModels;
import io.tandem.engine.sim.RecordingSink;
import io.tandem.model.gguf.GgufFile;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.SamplingParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A migrated request continues on another engine exactly where it stopped: the tokens after the resumed ones equal
 * the uninterrupted run's, for greedy and for seeded sampling with penalties, and usage counts every token once.
 */
class ResumedRequestTest {
    private static GgufFile file;
    private static final int[] PROMPT = {1, 450, 4996, 17354, 1701, 29916};

    @BeforeAll
    static void open() throws Exception {
        file = GgufFile.open(TestModels.modelPath(TestModels.FORTUNE_F32));
    }

    @AfterAll
    static void close() {
        file.close();
    }

    private static CpuEngine engine() {
        return CpuEngine.open(file, "fortune", CoreFixture.endOfGeneration(TestModels.FORTUNE_F32),
                CpuEngineConfig.defaults().withThreads(2).withKvCache(8L << 20, io.tandem.engine.kv.KvDataType.F32));
    }

    private static int[] prompt(int vocab) {
        return Arrays.stream(PROMPT).map(t -> t % vocab).toArray();
    }

    private static SamplingParams sampling(boolean seeded) {
        return seeded
                ? new SamplingParams(24, 0.9f, 0.95f, 40, 0f, 1234L, 0.4f, 0.6f, new int[0], true, -1)
                : new SamplingParams(24, 0f, 1f, 0, 0f, null, 0f, 0f, new int[0], true, -1);
    }

    @ParameterizedTest(name = "seeded={0}")
    @ValueSource(booleans = {false, true})
    void continuesTheSameTokenStreamAfterTheResumedTokens(boolean seeded) throws Exception {
        try (CpuEngine e = engine()) {
            int[] prompt = prompt(e.info().vocabSize());
            RecordingSink whole = new RecordingSink();
            e.submit(new EngineRequest("whole", prompt, sampling(seeded)), whole);
            whole.await();
            int[] all = whole.tokens();
            assertEquals(24, all.length);
            for (int cut : new int[]{1, 9, 23}) {
                RecordingSink rest = new RecordingSink();
                e.submit(new EngineRequest("rest-" + cut, prompt, sampling(seeded), Arrays.copyOf(all, cut)), rest);
                RecordingSink.Terminal t = rest.await();
                assertArrayEquals(Arrays.copyOfRange(all, cut, all.length), rest.tokens(), "after " + cut + " resumed tokens");
                assertEquals(24, t.usage().completionTokens(), "usage counts the resumed tokens once");
                assertEquals(prompt.length, t.usage().promptTokens());
            }
        }
    }

    @Test
    void refusesAResumedRequestWithNothingLeftToGenerate() {
        try (CpuEngine e = engine()) {
            int[] prompt = prompt(e.info().vocabSize());
            var none = assertThrows(EngineRejectedException.class,
                    () -> e.submit(new EngineRequest("x", prompt, sampling(false), new int[24]), new RecordingSink()));
            assertEquals(ErrorCode.INVALID_REQUEST, none.code());
        }
    }
}
