package io.tandem.gateway.api;

import io.vertx.core.json.JsonObject;

/**
 * An error the API reports to the client in OpenAI's envelope
 * {@code {"error": {"message", "type", "param", "code"}}} with an HTTP status.
 * Thrown by pure logic (validation, preprocessing) and by the dispatch path alike.
 */
public final class ApiException extends RuntimeException {

    private final int status;
    private final String type;
    private final String param;
    private final String code;
    /** Seconds for a Retry-After header, or -1. */
    private final int retryAfterSeconds;

    public ApiException(int status, String type, String message, String param, String code, int retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** 400 invalid_request_error naming the offending field. */
    public static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", message, param, null, -1);
    }

    /** 400 for a field value the gateway understands but does not support. */
    public static ApiException unsupported(String param, String message) {
        return new ApiException(400, "invalid_request_error", message, param, "unsupported_value", -1);
    }

    public static ApiException contextLengthExceeded(String param, String message) {
        return new ApiException(400, "invalid_request_error", message, param, "context_length_exceeded", -1);
    }

    public static ApiException modelNotFound(String model) {
        return new ApiException(404, "invalid_request_error",
                "The model '" + model + "' does not exist or is not served here", "model", "model_not_found", -1);
    }

    public static ApiException notFound(String message) {
        return new ApiException(404, "invalid_request_error", message, null, "not_found", -1);
    }

    public static ApiException unauthorized(String message) {
        return new ApiException(401, "invalid_request_error", message, null, "invalid_api_key", -1);
    }

    public static ApiException overloaded(String message, int retryAfterSeconds) {
        return new ApiException(429, "rate_limit_error", message, null, "overloaded", retryAfterSeconds);
    }

    public static ApiException unavailable(String message, int retryAfterSeconds) {
        return new ApiException(503, "service_unavailable", message, null, "no_worker_available", retryAfterSeconds);
    }

    public static ApiException timeout(String message) {
        return new ApiException(504, "timeout_error", message, null, "timeout", -1);
    }

    public static ApiException internal(String message) {
        return new ApiException(500, "server_error", message, null, "internal_error", -1);
    }

    /** The same error with {@code note} appended to its message. */
    public ApiException withNote(String note) {
        return new ApiException(status, type, getMessage() + note, param, code, retryAfterSeconds);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }

    public String code() {
        return code;
    }

    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** The OpenAI error envelope; absent param/code are explicit JSON nulls, as OpenAI sends them. */
    public JsonObject envelope() {
        JsonObject error = new JsonObject()
                .put("message", getMessage())
                .put("type", type)
                .put("param", param)
                .put("code", code);
        return new JsonObject().put("error", error);
    }
}
