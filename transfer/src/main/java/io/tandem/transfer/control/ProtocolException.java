package io.tandem.transfer.control;

import io.tandem.transfer.TransferException;

/** A peer broke the control protocol; {@code reason} is the refusal reason counted for it (see {@code TransferStats}). */
public final class ProtocolException extends TransferException {
    private final String reason;

    public ProtocolException(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
