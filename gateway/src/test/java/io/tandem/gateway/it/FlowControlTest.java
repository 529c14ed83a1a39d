package io.tandem.gateway.it;

import io.micrometer.core.instrument.Counter;
import io.tandem.engine.Engine;
import io.tandem.engine.sim.SimulatedEngine;
import io.tandem.gateway.Gateway;
import io.tandem.gateway.GatewayOptions;
import io.tandem.gateway.dispatch.GenerationStream;
import io.tandem.gateway.it.TestSupport.Http;
import io.tandem.protocol.WorkerRole;
import io.tandem.worker.DeployedWorker;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.tandem.gateway.it.TestSupport.await;
import static io.tandem.gateway.it.TestSupport.chat;
import static org.junit.jupiter.api.Assertions.*;

/**
 * End-to-end flow control against the embedded worker: a client that hangs up cancels the
 * request on the worker; a client that stops reading pauses the worker instead of filling the
 * gateway's memory; a full worker answers 429.
 */
class FlowControlTest {

    static final int MAX_TOKENS = 240;
    static Gateway gateway;
    static Http http;
    static Engine engine;
    static String model;

    @BeforeAll
    static void start() {
        GatewayOptions o = TestSupport.options(8);
        Map<String, Object> engineOptions = new HashMap<>(o.engineOptions());
        engineOptions.put("maxRunningSequences", 1);
        engineOptions.put("maxWaitingRequests", 1);
        o.setEngineOptions(engineOptions).setSseWriteQueueBytes(1024).setSendBufferBytes(4096).setInitialCredits(16);
        gateway = TestSupport.start(o);
        http = new Http(gateway.port());
        engine = gateway.workers().stream().filter(w -> w.record().role().servesGenerate())
                .map(DeployedWorker::engine).findFirst().orElseThrow();
        model = gateway.workers().getFirst().record().model();
    }

    @AfterAll
    static void stop() {
        if (http != null) http.close();
        if (gateway != null) TestSupport.sync(gateway.stop());
    }

    @AfterEach
    void engineHoldsNothing() {
        await("the engine to hold nothing", Duration.ofSeconds(15), () -> engine.activeRequests() == 0);
        await("the gateway to hold no stream", Duration.ofSeconds(5), () -> gateway.dispatcher().activeStreams() == 0);
        await("no request in flight", Duration.ofSeconds(5),
                () -> gateway.meters().get("tandem.gateway.in.flight.requests").gauge().value() == 0);
    }

    private static JsonObject longStream() {
        return chat(model, "Tell me a long fortune.").put("stream", true).put("max_tokens", MAX_TOKENS).put("ignore_eos", true);
    }

    private static double workerOutcomes(String outcome) {
        return gateway.meters().find("tandem.worker.requests").tag("outcome", outcome).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    @Test
    void disconnectMidStreamCancelsOnTheWorker() throws Exception {
        double cancelledBefore = workerOutcomes("cancelled");
        try (RawHttp client = new RawHttp(gateway.port(), 0)) {
            client.post("/v1/chat/completions", longStream());
            assertNotNull(client.readUntil("data: {"), "role chunk");
            assertNotNull(client.readUntil("data: {"), "a content chunk");
            assertEquals(1, engine.activeRequests());
        }
        // 240 tokens at 8 ms would take ~2 s more; the cancel frees the engine well before that
        await("the engine to drop the request", Duration.ofSeconds(10), () -> engine.activeRequests() == 0);
        await("the worker to count a cancelled request", Duration.ofSeconds(5), () -> workerOutcomes("cancelled") == cancelledBefore + 1);
        await("the gateway to free the stream", Duration.ofSeconds(5), () -> gateway.dispatcher().activeStreams() == 0);
    }

    @Test
    void slowReaderPausesTheWorkerInsteadOfBuffering() throws Exception {
        try (RawHttp client = new RawHttp(gateway.port(), 2048)) {
            client.post("/v1/chat/completions", longStream());
            // the client reads nothing from now on
            await("a stream to start", Duration.ofSeconds(10), () -> gateway.dispatcher().activeStreams() == 1);
            GenerationStream stream = gateway.dispatcher().streams().getFirst();
            SimulatedEngine sim = (SimulatedEngine) engine;
            await("the worker to pause the request", Duration.ofSeconds(20), () -> sim.isPaused(stream.requestId()));
            // held: the worker is paused and owes nothing (it sent all its credit, and all of it arrived). The socket
            // buffers may still take a few writes, each granting more credit, so this must hold over a stretch of
            // consecutive polls, not at one instant
            int[] held = {0};
            await("the stream to be held", Duration.ofSeconds(30), () -> {
                boolean now = sim.isPaused(stream.requestId()) && stream.workerCredits() == 0;
                held[0] = now ? held[0] + 1 : 0;
                return held[0] >= 30; // 30 polls of 10 ms
            });
            long received = stream.receivedTokens();
            System.out.println("slow reader: paused after " + received + " tokens");
            // must not happen, so no event can announce it: an explicit window of 50 decode steps, in which an
            // unpaused worker would send ~50 more tokens (a correct gateway passes whatever the window's length)
            TestSupport.stays("nothing more arrives while the client does not read", Duration.ofMillis(400),
                    () -> stream.receivedTokens() == received);
            assertTrue(received < MAX_TOKENS, "received " + received + " of " + MAX_TOKENS + " tokens before pausing");
            assertEquals(1, engine.activeRequests(), "the request is held, paused, not finished");

            List<String> events = client.readEvents(); // the client reads again: everything arrives
            assertEquals("[DONE]", events.getLast());
            JsonObject finish = new JsonObject(events.get(events.size() - 2));
            assertEquals("length", finish.getJsonArray("choices").getJsonObject(0).getString("finish_reason"));
        }
    }

    @Test
    void aFullWorkerQueuesTheRequestAtTheGatewayUntilASlotFrees() throws Exception {
        // one running and one waiting request fill this engine; the third waits in the gateway's queue
        try (RawHttp second = new RawHttp(gateway.port(), 0)) {
            RawHttp first = new RawHttp(gateway.port(), 0);
            first.post("/v1/chat/completions", longStream());
            assertNotNull(first.readUntil("data: {"));
            second.post("/v1/chat/completions", longStream());
            await("two requests in the engine", Duration.ofSeconds(10), () -> engine.activeRequests() == 2);
            var third = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> http.post("/v1/chat/completions", chat(model, "me too").put("max_tokens", 2)));
            await("the third request to wait in the gateway's queue", Duration.ofSeconds(10),
                    () -> gateway.dispatcher().queuedRequests() == 1);
            assertTrue(gateway.meters().get("tandem.gateway.queue.length").gauge().value() == 1.0);
            first.close(); // its slot frees: the queued request goes to the worker
            TestSupport.Reply r = third.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(200, r.status(), r.body());
            assertEquals(0, gateway.dispatcher().queuedRequests());
        }
    }
}
