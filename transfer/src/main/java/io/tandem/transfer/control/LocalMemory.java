package io.tandem.transfer.control;

import java.lang.foreign.MemorySegment;

/** Resolves a descriptor a peer sent against this agent's registered regions. */
@FunctionalInterface
public interface LocalMemory {
    /** The bytes {@code [offset, offset + length)} of region {@code region}; throws TransferException when out of bounds. */
    MemorySegment slice(int region, long offset, long length);
}
