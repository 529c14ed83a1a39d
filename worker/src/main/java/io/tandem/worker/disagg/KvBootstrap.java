package io.tandem.worker.disagg;

import io.tandem.engine.kv.KvDataType;
import io.tandem.engine.kv.KvLayout;
import io.tandem.transfer.AgentMetadata;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Locale;

/**
 * What a worker's bootstrap server ({@code GET /route}, and the same document on the event bus) tells peers: its
 * transfer agent (name, backend, metadata) and its KV layout with the agent region of every layer's K and V arena.
 * Two workers exchange blocks only when their layouts match in everything but the number of blocks.
 */
public record KvBootstrap(String workerId, String backend, AgentMetadata agent, KvLayout layout, int[][] regions) {

    /** Null when the layouts can exchange blocks, else what differs (for the error a decode worker gets). */
    public String mismatch(KvLayout local) {
        KvLayout r = layout;
        if (r.layers() != local.layers() || r.blockSize() != local.blockSize() || r.kvHeads() != local.kvHeads()
                || r.headDim() != local.headDim() || r.type() != local.type()) {
            return "KV layout mismatch: peer " + workerId + " has " + describe(r) + ", this worker " + describe(local);
        }
        return null;
    }

    private static String describe(KvLayout l) {
        return l.layers() + " layers, block size " + l.blockSize() + ", " + l.kvHeads() + " KV heads of " + l.headDim()
                + ", " + l.type();
    }

    public JsonObject toJson() {
        JsonArray keys = new JsonArray(), values = new JsonArray();
        for (int[] r : regions) {
            keys.add(r[0]);
            values.add(r[1]);
        }
        JsonObject kv = new JsonObject().put("layers", layout.layers()).put("num_blocks", layout.numBlocks())
                .put("block_size", layout.blockSize()).put("kv_heads", layout.kvHeads()).put("head_dim", layout.headDim())
                .put("dtype", layout.type().name().toLowerCase(Locale.ROOT)).put("bytes_per_block", layout.blockBytes())
                .put("bytes_per_block_all_layers", layout.bytesPerBlockAcrossLayers())
                .put("key_regions", keys).put("value_regions", values);
        return new JsonObject().put("worker_id", workerId).put("agent_name", agent.agent()).put("backend", backend)
                .put("kv_layout", kv).put("metadata", agent.toJson());
    }

    public static KvBootstrap fromJson(JsonObject json) {
        try {
            JsonObject kv = json.getJsonObject("kv_layout");
            KvLayout layout = new KvLayout(kv.getInteger("layers"), kv.getInteger("num_blocks"), kv.getInteger("block_size"),
                    kv.getInteger("kv_heads"), kv.getInteger("head_dim"), KvDataType.valueOf(kv.getString("dtype").toUpperCase(Locale.ROOT)));
            JsonArray keys = kv.getJsonArray("key_regions"), values = kv.getJsonArray("value_regions");
            int[][] regions = new int[keys.size()][];
            for (int l = 0; l < regions.length; l++) regions[l] = new int[] {keys.getInteger(l), values.getInteger(l)};
            return new KvBootstrap(json.getString("worker_id"), json.getString("backend"),
                    AgentMetadata.fromJson(json.getJsonObject("metadata")), layout, regions);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("malformed bootstrap document: " + e.getMessage(), e);
        }
    }
}
