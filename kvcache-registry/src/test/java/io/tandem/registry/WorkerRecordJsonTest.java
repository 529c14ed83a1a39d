package io.tandem.registry;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerRecordJsonTest {

    @Test
    void roundTripsEveryField() {
        WorkerRecord r = new WorkerRecord("w-1", WorkerRole.PREFILL, "tandem-fortune", "6f1c…", "10.0.0.7", 8123, 4096,
                new WorkerLoad(3, 2, 77, 512), 1_700_000_000_123L);
        assertEquals(r, WorkerRecordJson.decode(WorkerRecordJson.encode(r)));
        assertEquals(new WorkerRecordJson.Stored(r, 6_000), WorkerRecordJson.decodeStored(WorkerRecordJson.encode(r, 6_000)));
    }

    @Test
    void nullLoadIsStoredAsIdle() {
        WorkerRecord r = new WorkerRecord("w", WorkerRole.DECODE, "m", "n", null, 0, 0, null, 5);
        assertEquals(WorkerLoad.IDLE, WorkerRecordJson.decode(WorkerRecordJson.encode(r)).load());
    }

    @Test
    void badInputGetsAClearError() {
        assertMessage("not a JSON object", "not json");
        assertMessage("format 2 is not supported", "{\"v\":2,\"workerId\":\"w\",\"role\":\"BOTH\",\"model\":\"m\"}");
        assertMessage("lacks \"model\"", "{\"v\":1,\"workerId\":\"w\",\"role\":\"BOTH\"}");
        assertMessage("No enum constant", "{\"v\":1,\"workerId\":\"w\",\"role\":\"CHEF\",\"model\":\"m\"}");
        assertMessage("wrong type", "{\"v\":1,\"workerId\":\"w\",\"role\":\"BOTH\",\"model\":\"m\",\"httpPort\":\"eighty\"}");
    }

    private static void assertMessage(String expected, String json) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WorkerRecordJson.decode(json));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
