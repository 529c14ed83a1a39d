package io.tandem.transfer;

/** A one-sided transfer's direction, seen from the agent that posts it (as in NIXL). */
public enum TransferOp {
    /** Local memory to the peer's memory. */
    WRITE,
    /** The peer's memory into local memory. */
    READ
}
