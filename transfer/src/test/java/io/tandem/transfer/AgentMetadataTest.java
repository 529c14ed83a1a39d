package io.tandem.transfer;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgentMetadataTest {
    @Test
    void roundTripsThroughJson() {
        AgentMetadata m = new AgentMetadata("w1", "boot/host", "10.0.0.7", 4242,
                List.of(new RegionInfo(0, "kv", 1L << 34, "/dev/shm/tandem-w1-0-kv"), new RegionInfo(3, "scratch", 17, null)),
                Map.of("ucx", new byte[]{0, 1, (byte) 255}, "tcp", new byte[0]), new AgentIdentity("worker-1", "member-uuid", -42));
        AgentMetadata back = AgentMetadata.fromJson(new JsonObject(m.toJson().encode()));
        assertEquals(m.agent(), back.agent());
        assertEquals(m.hostId(), back.hostId());
        assertEquals(m.controlHost(), back.controlHost());
        assertEquals(m.controlPort(), back.controlPort());
        assertEquals(m.regions(), back.regions());
        assertEquals(m.backendPayloads().keySet(), back.backendPayloads().keySet());
        assertArrayEquals(new byte[]{0, 1, (byte) 255}, back.backendPayloads().get("ucx"));
        assertArrayEquals(new byte[0], back.backendPayloads().get("tcp"));
        assertEquals(m.identity(), back.identity());
        AgentMetadata anonymous = AgentMetadata.fromJson(new JsonObject(m.withControlAddress("h", 1).toJson().encode()).put("identity", (Object) null));
        assertEquals(null, anonymous.identity());
    }

    @Test
    void aWildcardIsNeverAdvertised() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TransferConfig.of("tcp", "a").withHost("0.0.0.0"));
        assertTrue(e.getMessage().contains("--advertise-host"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TransferConfig.of("tcp", "a").withAddresses("::", null));
        assertThrows(IllegalArgumentException.class, () -> TransferConfig.of("tcp", "a").withAdvertiseHost("0.0.0.0"));
        TransferConfig c = TransferConfig.of("tcp", "a").withAddresses("0.0.0.0", "10.1.2.3");
        assertEquals("0.0.0.0", c.host());
        assertEquals("10.1.2.3", c.advertisedHost());
        assertEquals("a", c.identity().workerId());
        assertEquals(c.identity(), c.withPort(5).identity(), "the identity drawn once stays with the config");
    }

    @Test
    void malformedMetadataIsATransferException() {
        assertThrows(TransferException.class, () -> AgentMetadata.fromJson(new JsonObject().put("agent", "x")));
    }
}
