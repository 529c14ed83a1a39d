package io.tandem.transfer;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a peer needs to transfer to and from an agent (NIXL's "local metadata"): its name, the host it runs on
 * (informational: shm is chosen only when proven, never because of it), the advertised address of its control channel
 * (handshake, notifications, leases, and the data of the tcp backend), its registered regions, an opaque payload per
 * backend it offers (e.g. the UCX worker address and packed rkeys, the shm probe file) and its identity, which the
 * handshake checks: a connection that reaches another agent or another incarnation of it is refused.
 */
public record AgentMetadata(String agent, String hostId, String controlHost, int controlPort, List<RegionInfo> regions,
                            Map<String, byte[]> backendPayloads, AgentIdentity identity) {

    public AgentMetadata {
        regions = List.copyOf(regions);
        backendPayloads = Map.copyOf(backendPayloads);
    }

    /** Without an identity: enough for a backend on its own, refused by an agent's {@code loadPeer}. */
    public AgentMetadata(String agent, String hostId, String controlHost, int controlPort, List<RegionInfo> regions,
                         Map<String, byte[]> backendPayloads) {
        this(agent, hostId, controlHost, controlPort, regions, backendPayloads, null);
    }

    public RegionInfo region(int id) {
        for (RegionInfo r : regions) if (r.id() == id) return r;
        throw new TransferException("agent " + agent + " has no region " + id);
    }

    public boolean offers(String backend) {
        return backendPayloads.containsKey(backend);
    }

    /** The same metadata reached at another control address (tests, and address rewriting by a proxy). */
    public AgentMetadata withControlAddress(String host, int port) {
        return new AgentMetadata(agent, hostId, host, port, regions, backendPayloads, identity);
    }

    /** The same metadata with {@code backend}'s payload replaced ({@code null} removes it). */
    public AgentMetadata withPayload(String backend, byte[] payload) {
        Map<String, byte[]> p = new LinkedHashMap<>(backendPayloads);
        if (payload == null) p.remove(backend);
        else p.put(backend, payload);
        return new AgentMetadata(agent, hostId, controlHost, controlPort, regions, p, identity);
    }

    public JsonObject toJson() {
        JsonArray rs = new JsonArray();
        for (RegionInfo r : regions) {
            JsonObject o = new JsonObject().put("id", r.id()).put("label", r.label()).put("size", r.size());
            if (r.path() != null) o.put("path", r.path());
            rs.add(o);
        }
        JsonObject payloads = new JsonObject();
        backendPayloads.forEach((k, v) -> payloads.put(k, Base64.getEncoder().encodeToString(v)));
        JsonObject json = new JsonObject().put("agent", agent).put("host_id", hostId).put("control_host", controlHost)
                .put("control_port", controlPort).put("regions", rs).put("backends", payloads);
        if (identity != null) json.put("identity", identity.toJson());
        return json;
    }

    public static AgentMetadata fromJson(JsonObject json) {
        try {
            List<RegionInfo> regions = new ArrayList<>();
            for (Object o : json.getJsonArray("regions")) {
                JsonObject r = (JsonObject) o;
                regions.add(new RegionInfo(r.getInteger("id"), r.getString("label"), r.getLong("size"), r.getString("path")));
            }
            Map<String, byte[]> payloads = new LinkedHashMap<>();
            JsonObject b = json.getJsonObject("backends", new JsonObject());
            for (String k : b.fieldNames()) payloads.put(k, Base64.getDecoder().decode(b.getString(k)));
            JsonObject id = json.getJsonObject("identity");
            return new AgentMetadata(json.getString("agent"), json.getString("host_id"), json.getString("control_host"),
                    json.getInteger("control_port"), regions, payloads, id == null ? null : AgentIdentity.fromJson(id));
        } catch (RuntimeException e) {
            throw new TransferException("malformed agent metadata: " + e.getMessage(), e);
        }
    }
}
