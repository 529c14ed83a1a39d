package io.tandem.transfer.ucx;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/** A loaded peer, touched only on the progress thread: its endpoint and the rkeys of its regions, unpacked on it. */
final class UcxPeer {
    record Remote(UcxPayload.Region region, MemorySegment rkey) {
    }

    final String name;
    final byte[] workerAddress;
    final MemorySegment ep;
    /** False on shared-memory-only endpoints: UCX cannot fail their requests, only the transfer timeout can. */
    final boolean peerFailureDetection;
    final Map<Integer, Remote> regions = new HashMap<>();
    /** Transfers in flight on the endpoint; when some, or some timed out, closing must cancel them (force). */
    int active;
    boolean abandonedRequests;

    UcxPeer(String name, byte[] workerAddress, UcxWorker.Endpoint endpoint) {
        this.name = name;
        this.workerAddress = workerAddress;
        this.ep = endpoint.ep();
        this.peerFailureDetection = endpoint.peerFailureDetection();
    }
}
