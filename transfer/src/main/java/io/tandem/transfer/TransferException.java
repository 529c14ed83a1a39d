package io.tandem.transfer;

/** A transfer or registration failed: unknown peer, dead peer, bad descriptor, backend error, timeout. */
public class TransferException extends RuntimeException {
    public TransferException(String message) {
        super(message);
    }

    public TransferException(String message, Throwable cause) {
        super(message, cause);
    }
}
