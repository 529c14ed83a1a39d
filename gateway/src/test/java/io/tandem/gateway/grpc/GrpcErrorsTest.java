package io.tandem.gateway.grpc;

import io.tandem.gateway.api.ApiException;
import io.vertx.grpc.common.GrpcStatus;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class GrpcErrorsTest {

    @Test
    void theHttpStatusesMapToTheCodesGrpcClientsExpect() {
        assertEquals(GrpcStatus.INVALID_ARGUMENT, GrpcErrors.status(ApiException.invalid("x", "bad")));
        assertEquals(GrpcStatus.INVALID_ARGUMENT, GrpcErrors.status(ApiException.contextLengthExceeded("x", "long")));
        assertEquals(GrpcStatus.NOT_FOUND, GrpcErrors.status(ApiException.modelNotFound("m")));
        assertEquals(GrpcStatus.UNAUTHENTICATED, GrpcErrors.status(ApiException.unauthorized("key")));
        assertEquals(GrpcStatus.RESOURCE_EXHAUSTED, GrpcErrors.status(ApiException.overloaded("busy", 1)));
        assertEquals(GrpcStatus.UNAVAILABLE, GrpcErrors.status(ApiException.unavailable("none", 1)));
        assertEquals(GrpcStatus.DEADLINE_EXCEEDED, GrpcErrors.status(ApiException.timeout("slow")));
        assertEquals(GrpcStatus.INTERNAL, GrpcErrors.status(ApiException.internal("oops")));
    }
}
