package io.tandem.protocol;

/** Event-bus addresses. One place, so gateway and worker cannot disagree. */
public final class Addresses {
    private Addresses() {}

    /** Where a worker takes {@link GenerateRequest}s. */
    public static String generate(String workerId) {
        return "tandem.worker." + workerId + ".generate";
    }

    /** Where a worker takes {@link ControlMessage}s (credits, cancels) for all its requests. */
    public static String control(String workerId) {
        return "tandem.worker." + workerId + ".control";
    }

    /** Where the gateway consumes the tokens of one request. */
    public static String stream(String requestId) {
        return "tandem.stream." + requestId;
    }

    /** Where every worker publishes its {@code KvEventBatch}es; every router subscribes. */
    public static final String KV_EVENTS = "tandem.kv.events";

    /** Where a worker takes resync requests: it answers by publishing a snapshot batch of its prefix cache. */
    public static String kvResync(String workerId) {
        return "tandem.worker." + workerId + ".kv-resync";
    }
}
