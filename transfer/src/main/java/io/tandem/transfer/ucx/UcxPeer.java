package io.tandem.transfer.ucx;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * A loaded peer, touched only on the progress thread: its latest payload and, while connected, its endpoint and the
 * rkeys of its regions unpacked on it. After the endpoint failed it is disconnected (no endpoint, no rkeys) and the
 * next transfer connects again from the payload it keeps.
 */
final class UcxPeer {
    record Remote(UcxPayload.Region region, MemorySegment rkey) {
    }

    final String name;
    final byte[] workerAddress;
    /** The regions it offered last, by id; kept while disconnected so that a reconnect can unpack their rkeys again. */
    final Map<Integer, UcxPayload.Region> offered = new HashMap<>();
    /** The endpoint, or null while disconnected. */
    UcxWorker.Endpoint endpoint;
    /** Unpacked on {@link #endpoint}; empty while disconnected. */
    final Map<Integer, Remote> regions = new HashMap<>();
    /** Transfers in flight on the endpoint; when some, or some timed out, closing must cancel them (force). */
    int active;
    boolean abandonedRequests;
    /** Why the last endpoint failed (named when reconnecting), or null. */
    String lastFailure;

    UcxPeer(String name, byte[] workerAddress) {
        this.name = name;
        this.workerAddress = workerAddress;
    }

    MemorySegment ep() {
        return endpoint.ep();
    }

    boolean connected() {
        return endpoint != null;
    }
}
