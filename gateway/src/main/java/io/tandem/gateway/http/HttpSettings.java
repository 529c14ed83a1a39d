package io.tandem.gateway.http;

import java.util.List;

/**
 * HTTP-facing settings of the API.
 *
 * @param apiKeys            accepted bearer keys for {@code /v1/*}; empty means no authentication
 * @param bodyLimitBytes     larger request bodies get 413
 * @param sseWriteQueueBytes high-water mark of a streaming response's write queue (0: Vert.x default);
 *                           above it the gateway stops granting the worker credits
 * @param maxRequestMillis   no generation request lives longer than this
 * @param retryAfterSeconds  Retry-After of /ready's 503
 */
public record HttpSettings(List<String> apiKeys, long bodyLimitBytes, int sseWriteQueueBytes, long maxRequestMillis,
                           int retryAfterSeconds) {

    public HttpSettings {
        apiKeys = List.copyOf(apiKeys);
        if (bodyLimitBytes < 1) throw new IllegalArgumentException("bodyLimitBytes must be >= 1");
        if (sseWriteQueueBytes < 0) throw new IllegalArgumentException("sseWriteQueueBytes must be >= 0");
        if (maxRequestMillis < 1) throw new IllegalArgumentException("maxRequestMillis must be >= 1");
    }
}
