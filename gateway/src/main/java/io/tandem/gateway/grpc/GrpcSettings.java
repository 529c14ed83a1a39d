package io.tandem.gateway.grpc;

import java.util.List;

/**
 * The gRPC API's settings.
 *
 * @param port             the gRPC server's port; 0 picks a free one
 * @param maxMessageBytes  larger request messages get RESOURCE_EXHAUSTED
 * @param apiKeys          accepted bearer keys ({@code authorization} metadata); empty means no authentication
 * @param maxRequestMillis no generation lives longer than this
 * @param writeQueueBytes  high-water mark of a streamed response's write queue (0: Vert.x's default); above it the
 *                         gateway stops granting the worker credits
 */
public record GrpcSettings(int port, long maxMessageBytes, List<String> apiKeys, long maxRequestMillis, int writeQueueBytes) {

    public GrpcSettings {
        apiKeys = List.copyOf(apiKeys);
        if (port < 0 || port > 65535) throw new IllegalArgumentException("grpc port must be 0..65535, got " + port);
        if (maxMessageBytes < 1) throw new IllegalArgumentException("maxMessageBytes must be >= 1");
        if (maxRequestMillis < 1) throw new IllegalArgumentException("maxRequestMillis must be >= 1");
        if (writeQueueBytes < 0) throw new IllegalArgumentException("writeQueueBytes must be >= 0");
    }
}
