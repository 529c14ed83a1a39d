package io.tandem.gateway.router;

/**
 * What the router knows of a request's prompt: its chained block hashes (full blocks only) and the
 * number of KV blocks the prompt fills (a trailing partial block included).
 */
public record RouteRequest(long[] blockHashes, int promptBlocks) {
    public static final RouteRequest NONE = new RouteRequest(new long[0], 0);
}
