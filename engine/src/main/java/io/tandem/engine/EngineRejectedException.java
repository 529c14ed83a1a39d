package io.tandem.engine;

import io.tandem.protocol.ErrorCode;

/** A request the engine refused up front; nothing is held for it. */
public class EngineRejectedException extends Exception {
    private final ErrorCode code;

    public EngineRejectedException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
