package io.tandem.transfer;

/** Where a posted transfer is. */
public sealed interface TransferStatus {
    record InProgress() implements TransferStatus {
    }

    /** Every byte is in place at the destination (for WRITE: in the peer's memory). */
    record Done() implements TransferStatus {
    }

    record Failed(String reason) implements TransferStatus {
    }

    TransferStatus IN_PROGRESS = new InProgress();
    TransferStatus DONE = new Done();
}
