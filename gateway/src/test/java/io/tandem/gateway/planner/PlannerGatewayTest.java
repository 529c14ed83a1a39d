package io.tandem.gateway.planner;

import io.tandem.gateway.Gateway;
import io.tandem.gateway.it.TestSupport;
import io.tandem.gateway.it.TestSupport.Http;
import io.tandem.gateway.it.TestSupport.Reply;
import io.tandem.model.BundledModel;
import io.tandem.protocol.ProtocolCodecs;
import io.tandem.registry.LocalWorkerRegistry;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.tandem.gateway.it.TestSupport.chat;
import static io.tandem.gateway.it.TestSupport.sync;
import static org.junit.jupiter.api.Assertions.*;

/** GET /v1/planner and the gauges the HPAs read, on real gateways. */
class PlannerGatewayTest {

    @Test
    void plannerAnswersWithBothRolesFromTheFinishedRequestsAndTheGaugesMatch() {
        Gateway gw = TestSupport.start(TestSupport.options(2).setPrefillWorkers(1)); // one prefill, one decode sim worker
        try (Http http = new Http(gw.port())) {
            String model = http.get("/v1/models").json().getJsonArray("data").getJsonObject(0).getString("id");
            for (int i = 0; i < 3; i++) {
                Reply r = http.post("/v1/chat/completions", chat(model, "Plan number " + i).put("max_tokens", 6)
                        .put("ignore_eos", true));
                assertEquals(200, r.status(), r.body());
            }
            Reply reply = http.get("/v1/planner");
            assertEquals(200, reply.status(), reply.body());
            assertTrue(reply.headers().get("content-type").startsWith("application/json"));
            JsonObject plan = reply.json();
            JsonObject recommended = plan.getJsonObject("recommended");
            assertTrue(recommended.getInteger("prefill") >= 0, plan.encodePrettily());
            assertTrue(recommended.getInteger("decode") >= 1, plan.encodePrettily());
            assertFalse(plan.getString("reason").isBlank());
            JsonObject inputs = plan.getJsonObject("inputs");
            assertEquals(3, inputs.getLong("requests"), "every finished request is in the window: " + plan.encodePrettily());
            assertEquals(6.0, inputs.getDouble("mean_output_tokens"), 1e-9);
            assertTrue(inputs.getDouble("mean_prompt_tokens") > 0);
            assertEquals(new JsonObject().put("prefill", 1).put("decode", 1), inputs.getJsonObject("workers"));
            assertTrue(plan.getJsonObject("slo").getBoolean("defaulted"), "no --slo-* given");

            String metrics = http.get("/metrics").body();
            for (String role : List.of("prefill", "decode")) {
                Matcher m = Pattern.compile("^tandem_planner_recommended_workers\\{[^}]*role=\"" + role + "\"[^}]*} (\\S+)$",
                        Pattern.MULTILINE).matcher(metrics);
                assertTrue(m.find(), "the " + role + " gauge in /metrics:\n" + metrics);
                assertEquals(recommended.getInteger(role), Double.parseDouble(m.group(1)), 1e-9, role);
                Matcher demand = Pattern.compile("^tandem_planner_demand_workers\\{[^}]*role=\"" + role + "\"[^}]*} (\\S+)$",
                        Pattern.MULTILINE).matcher(metrics);
                assertTrue(demand.find(), "the " + role + " demand gauge in /metrics:\n" + metrics);
            }
        } finally {
            sync(gw.stop());
        }
    }

    @Test
    void plannerNeedsAnApiKeyLikeEveryV1Route() {
        Vertx vertx = Vertx.vertx();
        ProtocolCodecs.registerAll(vertx.eventBus());
        LocalWorkerRegistry registry = new LocalWorkerRegistry(vertx);
        Gateway gw = sync(Gateway.attach(vertx, registry, TestSupport.options(1).addModel(BundledModel.path())
                .setApiKeys(List.of("sk-plan"))));
        try (Http http = new Http(gw.port())) {
            assertEquals("invalid_api_key", http.get("/v1/planner").error(401).getString("code"));
            MultiMap key = MultiMap.caseInsensitiveMultiMap().add("Authorization", "Bearer sk-plan");
            Reply r = http.send(HttpMethod.GET, "/v1/planner", null, key);
            assertEquals(200, r.status(), r.body());
            JsonObject plan = r.json();
            assertEquals(0, plan.getJsonObject("recommended").getInteger("prefill"), "no traffic: no prefill worker");
            assertEquals(1, plan.getJsonObject("recommended").getInteger("decode"), "no traffic: the minimum");
        } finally {
            sync(gw.stop());
            sync(registry.close());
            sync(vertx.close());
        }
    }
}
