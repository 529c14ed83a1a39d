package io.tandem.transfer.ucx;

import io.tandem.transfer.TransferException;

import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The loaded peers and the life of their endpoints, on the progress thread only: load (connect, unpack rkeys), fail
 * (the endpoint's error callback), reconnect on the next transfer, forget. A failed endpoint fails the peer's
 * transfers at once with the peer's name and the UCX status, is force-closed and its rkeys destroyed; the peer stays
 * loaded, disconnected, so that the next transfer connects again — and fails just as promptly if the peer is still gone.
 */
final class UcxPeers {
    private static final System.Logger LOG = System.getLogger(UcxPeers.class.getName());
    private static final long CLOSE_WAIT_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final UcxWorker worker;
    private final Duration timeout;
    private final String tlsHint;
    private final Map<String, UcxPeer> peers = new HashMap<>();
    /** Connected peers by the id of their endpoint, which is what the error callback names. */
    private final Map<Long, UcxPeer> byEndpoint = new HashMap<>();
    private long nextEndpointId = 1;
    private boolean warnedNoPeerFailureDetection;

    UcxPeers(UcxWorker worker, Duration timeout, String tlsHint) {
        this.worker = worker;
        this.timeout = timeout;
        this.tlsHint = tlsHint;
    }

    /** Loads or reloads a peer; a new worker address (the peer restarted) replaces its endpoint. */
    void load(String name, UcxPayload payload) throws Throwable {
        UcxPeer p = peers.get(name);
        if (p != null && !Arrays.equals(p.workerAddress, payload.workerAddress())) {
            close(p, "agent " + name + " restarted");
            p = null;
        }
        if (p == null) {
            p = new UcxPeer(name, payload.workerAddress());
            peers.put(name, p);
        }
        offer(p, payload.regions());
        if (!p.connected()) connect(p);
    }

    /** The peer, connected (again, after a failure); throws when it is not loaded or cannot be reached. */
    UcxPeer connected(String name) throws Throwable {
        UcxPeer p = peers.get(name);
        if (p == null) throw new TransferException("peer " + name + " is not loaded in ucx");
        if (!p.connected()) {
            LOG.log(System.Logger.Level.INFO, "UCX: reconnecting to peer " + name + " after: " + p.lastFailure);
            connect(p);
        }
        return p;
    }

    void forget(String name) throws Throwable {
        UcxPeer p = peers.remove(name);
        if (p != null) close(p, "peer " + name + " was forgotten");
    }

    void closeAll(String reason) throws Throwable {
        for (UcxPeer p : peers.values()) close(p, reason);
        peers.clear();
    }

    /**
     * The error callback's work, on the progress thread right after the UCX call that detected the failure: UCX has
     * completed the endpoint's requests with the error by now; the transfers fail with the peer's name and the status.
     */
    void endpointFailed(long endpointId, byte status) throws Throwable {
        UcxPeer p = byEndpoint.get(endpointId);
        if (p == null || !p.connected() || p.endpoint.id() != endpointId) return; // closed meanwhile
        String reason = "UCX endpoint to peer " + p.name + " failed: " + Ucp.describe(status);
        int failed = worker.abortTransfers(p, reason);
        p.lastFailure = reason;
        disconnect(p, true);
        LOG.log(failed > 0 ? System.Logger.Level.WARNING : System.Logger.Level.INFO,
                reason + "; " + failed + " transfer(s) failed; the next transfer reconnects");
    }

    /**
     * Records the regions the peer offers now; while connected, unpacks the rkeys of new or changed regions and keeps
     * the unchanged ones (transfers may be using them).
     */
    private void offer(UcxPeer p, List<UcxPayload.Region> regions) throws Throwable {
        p.offered.clear();
        for (UcxPayload.Region r : regions) p.offered.put(r.id(), r);
        if (!p.connected()) return;
        Map<Integer, UcxPeer.Remote> fresh = new HashMap<>();
        for (UcxPayload.Region r : regions) {
            UcxPeer.Remote old = p.regions.get(r.id());
            fresh.put(r.id(), r.sameAs(old == null ? null : old.region()) ? old : new UcxPeer.Remote(r, worker.rkeyUnpack(p.ep(), r.rkey())));
        }
        for (UcxPeer.Remote old : p.regions.values()) {
            if (fresh.get(old.region().id()) != old) worker.rkeyDestroy(old.rkey());
        }
        p.regions.clear();
        p.regions.putAll(fresh);
    }

    /** Creates the endpoint to a disconnected peer and unpacks the rkeys of the regions it offers. */
    private void connect(UcxPeer p) throws Throwable {
        UcxWorker.Endpoint e;
        try {
            // a reconnect follows a failure UCX detected, so peer error mode worked: no fallback to a mode without it
            e = worker.epCreate(p.workerAddress, nextEndpointId++, p.lastFailure == null);
        } catch (TransferException ex) {
            throw new TransferException("cannot reach UCX peer " + p.name + ": " + ex.getMessage()
                    + (p.lastFailure == null ? "" : " (after: " + p.lastFailure + ")"), ex);
        }
        p.endpoint = e;
        byEndpoint.put(e.id(), p);
        if (!e.peerFailureDetection() && !warnedNoPeerFailureDetection) {
            warnedNoPeerFailureDetection = true;
            LOG.log(System.Logger.Level.WARNING, "UCX: no transport in " + tlsHint + " detects peer failure towards "
                    + p.name + " (shared memory only): a dead peer fails a transfer only at the transfer timeout ("
                    + timeout.toSeconds() + " s). Add tcp to UCX_TLS (" + UcxBackend.TLS_PROPERTY + ") to fail at once.");
        }
        try {
            for (UcxPayload.Region r : p.offered.values()) p.regions.put(r.id(), new UcxPeer.Remote(r, worker.rkeyUnpack(p.ep(), r.rkey())));
        } catch (Throwable t) {
            disconnect(p, false);
            throw t;
        }
    }

    private void close(UcxPeer p, String reason) throws Throwable {
        worker.abortTransfers(p, reason);
        disconnect(p, false);
    }

    /**
     * Releases rkeys and endpoint in the order UCX requires: rkeys only once no request uses them. Requests still in
     * flight are cancelled by a forced close, which UCX allows only in peer error mode; without it (shared memory) the
     * close flushes, and rkeys that stuck requests may still use are leaked rather than freed under them. A failed
     * endpoint ({@code failed}) is always force-closed: there is nothing left to flush.
     */
    private void disconnect(UcxPeer p, boolean failed) throws Throwable {
        if (!p.connected()) return;
        UcxWorker.Endpoint e = p.endpoint;
        boolean inFlight = p.active > 0 || p.abandonedRequests;
        if (!inFlight) for (UcxPeer.Remote r : p.regions.values()) worker.rkeyDestroy(r.rkey());
        byEndpoint.remove(e.id());
        p.endpoint = null;
        boolean force = e.peerFailureDetection() && (inFlight || failed);
        worker.epClose(e.ep(), force, CLOSE_WAIT_NANOS);
        if (inFlight && e.peerFailureDetection()) for (UcxPeer.Remote r : p.regions.values()) worker.rkeyDestroy(r.rkey());
        p.regions.clear();
        p.abandonedRequests = false;
    }
}
