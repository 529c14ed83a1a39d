package io.tandem.registry;

import io.tandem.protocol.ClusterContract;
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
                new WorkerLoad(3, 2, 77, 512), 1_700_000_000_123L, -8_765_432_109_876_543_210L,
                new ClusterContract("0123456789abcdef0123456789abcdef", 32, "f16", "22x4x64", 2), 1_700_000_000_001L);
        assertEquals(r, WorkerRecordJson.decode(WorkerRecordJson.encode(r)));
        assertEquals(new WorkerRecordJson.Stored(r, 6_000), WorkerRecordJson.decodeStored(WorkerRecordJson.encode(r, 6_000)));
    }

    @Test
    void measuredRatesRoundTripAndAreOptional() {
        WorkerRecord r = new WorkerRecord("w", WorkerRole.DECODE, "m", "n", null, 0, 0,
                new WorkerLoad(1, 2, 3, 4, false, 900, 24_000.25, 11.5), 5, 1, Workers.CONTRACT, 0);
        String json = WorkerRecordJson.encode(r);
        assertEquals(r, WorkerRecordJson.decode(json));
        // a record written before the rates existed (same format): read as "not measured"
        io.vertx.core.json.JsonObject o = new io.vertx.core.json.JsonObject(json);
        for (String f : new String[] {"queuedPromptTokens", "prefillTokensPerSecond", "decodeStepMillis"}) o.getJsonObject("load").remove(f);
        assertEquals(new WorkerLoad(1, 2, 3, 4), WorkerRecordJson.decode(o.encode()).load());
    }

    @Test
    void nullLoadIsStoredAsIdle() {
        WorkerRecord r = new WorkerRecord("w", WorkerRole.DECODE, "m", "n", null, 0, 0, null, 5, 1, Workers.CONTRACT, 0);
        assertEquals(WorkerLoad.IDLE, WorkerRecordJson.decode(WorkerRecordJson.encode(r)).load());
    }

    /** What a worker of the previous release writes: a mixed-version cluster is refused, not half understood. */
    @Test
    void aFormatOneRecordIsRefusedNamingTheFix() {
        String v1 = "{\"v\":1,\"workerId\":\"w\",\"role\":\"BOTH\",\"model\":\"m\",\"nodeId\":\"n\",\"host\":\"10.0.0.7\","
                + "\"httpPort\":8100,\"maxContext\":2048,\"load\":{\"running\":0,\"waiting\":0,\"activeBlocks\":0,\"totalBlocks\":0},"
                + "\"heartbeatMillis\":5,\"leaseMillis\":6000}";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WorkerRecordJson.decode(v1));
        assertEquals("worker record format 1 is not supported (this node reads format 2; the worker runs an older Tandem "
                + "that states no cluster contract): run one Tandem version across the cluster", e.getMessage());
        assertMessage("this node reads format 2; the worker runs a newer Tandem", v1.replace("\"v\":1", "\"v\":3"));
    }

    @Test
    void badInputGetsAClearError() {
        String contract = ",\"contract\":{\"modelFingerprint\":\"f\",\"blockSize\":16,\"kvDtype\":\"f32\",\"kvLayout\":\"1x1x1\",\"protocolVersion\":2}";
        assertMessage("not a JSON object", "not json");
        assertMessage("lacks \"model\"", "{\"v\":2,\"workerId\":\"w\",\"role\":\"BOTH\"" + contract + "}");
        assertMessage("No enum constant", "{\"v\":2,\"workerId\":\"w\",\"role\":\"CHEF\",\"model\":\"m\"" + contract + "}");
        assertMessage("wrong type", "{\"v\":2,\"workerId\":\"w\",\"role\":\"BOTH\",\"model\":\"m\",\"httpPort\":\"eighty\"" + contract + "}");
        assertMessage("lacks \"contract\"", "{\"v\":2,\"workerId\":\"w\",\"role\":\"BOTH\",\"model\":\"m\"}");
        assertMessage("contract lacks \"blockSize\"", "{\"v\":2,\"workerId\":\"w\",\"role\":\"BOTH\",\"model\":\"m\"" + contract.replace("\"blockSize\":16,", "") + "}");
        assertMessage("contract is invalid: block size must be >= 1", "{\"v\":2,\"workerId\":\"w\",\"role\":\"BOTH\",\"model\":\"m\"" + contract.replace("16", "0") + "}");
    }

    private static void assertMessage(String expected, String json) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WorkerRecordJson.decode(json));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
