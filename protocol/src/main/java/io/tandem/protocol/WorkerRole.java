package io.tandem.protocol;

/** What part of a request a worker computes. */
public enum WorkerRole {
    PREFILL, DECODE, BOTH;

    /** Whether the gateway may send a full generate request here. */
    public boolean servesGenerate() {
        return this != PREFILL;
    }
}
