package io.tandem.gateway.it;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.it.TestSupport.Http;
import io.tandem.protocol.WorkerRole;
import io.tandem.worker.DeployedWorker;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.tandem.gateway.it.TestSupport.chat;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The only decode worker goes away mid-stream: the request tries to migrate, waits in the queue for a worker for
 * {@code --max-queue-wait}, and when none comes the client gets an error event and [DONE]; later requests 503.
 */
class WorkerFailureTest {

    static Gateway gateway;
    static Http http;

    @BeforeAll
    static void start() {
        gateway = TestSupport.start(TestSupport.options(10).setMaxQueueWaitMillis(500));
        http = new Http(gateway.port());
    }

    @AfterAll
    static void stop() {
        if (http != null) http.close();
        if (gateway != null) TestSupport.sync(gateway.stop());
    }

    @Test
    void workerLostMidStream() throws Exception {
        DeployedWorker decode = gateway.workers().stream().filter(w -> w.record().role().servesGenerate()).findFirst().orElseThrow();
        String model = decode.record().model();
        try (RawHttp client = new RawHttp(gateway.port(), 0)) {
            client.post("/v1/chat/completions", chat(model, "hi").put("stream", true).put("max_tokens", 200).put("ignore_eos", true));
            assertNotNull(client.readUntil("data: {"));
            assertNotNull(client.readUntil("data: {"));
            TestSupport.sync(decode.undeploy(gateway.vertx()));
            List<String> events = client.readEvents();
            assertEquals("[DONE]", events.getLast());
            JsonObject error = new JsonObject(events.get(events.size() - 2)).getJsonObject("error");
            assertNotNull(error, "the last event before [DONE] is an error: " + events.get(events.size() - 2));
            assertTrue(error.getString("message").contains("--max-queue-wait"), error.getString("message"));
            assertEquals(1.0, gateway.meters().counter("tandem.migrations", "reason", "worker_left").count()
                    + gateway.meters().counter("tandem.migrations", "reason", "worker_unavailable").count());
        }
        TestSupport.Reply r = http.post("/v1/chat/completions", chat(model, "anyone?"));
        r.error(503);
        assertNotNull(r.headers().get("Retry-After"));
        assertEquals(503, http.get("/ready").status());
        assertEquals(0, gateway.dispatcher().activeStreams());
    }
}
