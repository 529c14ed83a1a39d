package io.tandem.registry;

import io.tandem.protocol.ClusterContract;
import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/**
 * The stored form of a {@link WorkerRecord}: a small JSON object, readable by any JVM and any
 * version that knows format 2, and queryable by Hazelcast (e.g. {@code nodeId = ...}).
 */
public final class WorkerRecordJson {
    /**
     * Bumped only on incompatible changes; readers reject other versions clearly (a mixed-version cluster is refused,
     * not half understood). 2: epoch, registration time and the cluster contract.
     */
    public static final int FORMAT = 2;

    private WorkerRecordJson() {}

    /** A record as stored, with the lease its writer runs with (0 when not stated). */
    public record Stored(WorkerRecord record, long leaseMillis) {}

    public static String encode(WorkerRecord r) {
        return encode(r, 0);
    }

    /** {@code leaseMillis} tells readers how long the record lives without a heartbeat. */
    public static String encode(WorkerRecord r, long leaseMillis) {
        WorkerLoad l = r.load() == null ? WorkerLoad.IDLE : r.load();
        return new JsonObject()
                .put("v", FORMAT)
                .put("workerId", r.workerId())
                .put("role", r.role().name())
                .put("model", r.model())
                .put("nodeId", r.nodeId())
                .put("host", r.host())
                .put("httpPort", r.httpPort())
                .put("maxContext", r.maxContext())
                .put("load", new JsonObject()
                        .put("running", l.runningRequests())
                        .put("waiting", l.waitingRequests())
                        .put("activeBlocks", l.activeBlocks())
                        .put("totalBlocks", l.totalBlocks())
                        .put("draining", l.draining())
                        // optional: readers of format 2 without them ignore them, records without them read as 0
                        .put("queuedPromptTokens", l.queuedPromptTokens())
                        .put("prefillTokensPerSecond", l.prefillTokensPerSecond())
                        .put("decodeStepMillis", l.decodeStepMillis()))
                .put("heartbeatMillis", r.heartbeatMillis())
                .put("leaseMillis", leaseMillis)
                .put("epoch", r.epoch())
                .put("registeredMillis", r.registeredMillis())
                .put("contract", contract(r.contract()))
                .encode();
    }

    private static JsonObject contract(ClusterContract c) {
        return c == null ? null : new JsonObject()
                .put("modelFingerprint", c.modelFingerprint())
                .put("blockSize", c.blockSize())
                .put("kvDtype", c.kvDtype())
                .put("kvLayout", c.kvLayout())
                .put("protocolVersion", c.protocolVersion());
    }

    /** @throws IllegalArgumentException naming what is wrong, for anything that is not a format-2 record */
    public static WorkerRecord decode(String json) {
        return decodeStored(json).record();
    }

    /** The record and its writer's lease. */
    public static Stored decodeStored(String json) {
        JsonObject o;
        try {
            o = new JsonObject(json);
        } catch (DecodeException | NullPointerException e) {
            throw new IllegalArgumentException("worker record is not a JSON object: " + e.getMessage(), e);
        }
        try {
            Integer v = o.getInteger("v");
            if (v == null || v != FORMAT) {
                throw new IllegalArgumentException("worker record format " + v + " is not supported (this node reads format "
                        + FORMAT + (v != null && v < FORMAT ? "; the worker runs an older Tandem that states no cluster contract"
                        : "; the worker runs a newer Tandem") + "): run one Tandem version across the cluster");
            }
            JsonObject load = o.getJsonObject("load", new JsonObject());
            WorkerRecord record = new WorkerRecord(
                    required(o, "workerId"),
                    WorkerRole.valueOf(required(o, "role")),
                    required(o, "model"),
                    o.getString("nodeId"),
                    o.getString("host"),
                    o.getInteger("httpPort", 0),
                    o.getInteger("maxContext", 0),
                    new WorkerLoad(load.getInteger("running", 0), load.getInteger("waiting", 0),
                            load.getInteger("activeBlocks", 0), load.getInteger("totalBlocks", 0),
                            load.getBoolean("draining", false), Math.max(0, load.getLong("queuedPromptTokens", 0L)),
                            nonNegative(load.getDouble("prefillTokensPerSecond", 0.0)),
                            nonNegative(load.getDouble("decodeStepMillis", 0.0))),
                    o.getLong("heartbeatMillis", 0L),
                    o.getLong("epoch", 0L),
                    contract(o),
                    o.getLong("registeredMillis", 0L));
            return new Stored(record, Math.max(0, o.getLong("leaseMillis", 0L)));
        } catch (ClassCastException e) {
            throw new IllegalArgumentException("worker record has a field of the wrong type: " + e.getMessage(), e);
        }
    }

    private static double nonNegative(double v) {
        return v >= 0 ? v : 0;
    }

    private static ClusterContract contract(JsonObject o) {
        JsonObject c = o.getJsonObject("contract");
        if (c == null) throw new IllegalArgumentException("worker record lacks \"contract\"");
        Integer blockSize = c.getInteger("blockSize"), protocol = c.getInteger("protocolVersion");
        if (blockSize == null || protocol == null) {
            throw new IllegalArgumentException("worker record's contract lacks \"" + (blockSize == null ? "blockSize" : "protocolVersion") + "\"");
        }
        try {
            return new ClusterContract(required(c, "modelFingerprint"), blockSize, required(c, "kvDtype"), required(c, "kvLayout"), protocol);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("worker record's contract is invalid: " + e.getMessage(), e);
        }
    }

    private static String required(JsonObject o, String field) {
        String s = o.getString(field);
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException("worker record lacks \"" + field + "\"");
        }
        return s;
    }
}
