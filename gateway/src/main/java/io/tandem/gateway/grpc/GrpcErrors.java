package io.tandem.gateway.grpc;

import io.tandem.gateway.api.ApiException;
import io.vertx.grpc.common.GrpcStatus;

/** The gRPC status of an API error: the HTTP API's status mapped to the code gRPC clients expect. Pure. */
final class GrpcErrors {

    private GrpcErrors() {}

    static GrpcStatus status(ApiException e) {
        return switch (e.status()) {
            case 400 -> GrpcStatus.INVALID_ARGUMENT;
            case 401 -> GrpcStatus.UNAUTHENTICATED;
            case 403 -> GrpcStatus.PERMISSION_DENIED;
            case 404 -> GrpcStatus.NOT_FOUND;
            case 413, 429 -> GrpcStatus.RESOURCE_EXHAUSTED; // too large; every worker busy
            case 503 -> GrpcStatus.UNAVAILABLE;
            case 504 -> GrpcStatus.DEADLINE_EXCEEDED;
            case 500 -> GrpcStatus.INTERNAL;
            default -> GrpcStatus.UNKNOWN;
        };
    }
}
