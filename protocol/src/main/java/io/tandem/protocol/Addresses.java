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

    /** Where a prefill worker takes {@link RemotePrefillMessage.Request}s from decode workers. */
    public static String prefill(String workerId) {
        return "tandem.worker." + workerId + ".prefill";
    }

    /** Where a worker answers with its transfer bootstrap (agent metadata and KV layout), as its HTTP {@code GET /route} does. */
    public static String bootstrap(String workerId) {
        return "tandem.worker." + workerId + ".bootstrap";
    }

    /** Header of a generate request naming the prefill worker the router picked for it (a hint; the decode worker decides). */
    public static final String PREFILL_WORKER_HEADER = "tandem-prefill-worker";
}
