package io.tandem.transfer;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The receiving side of fenced writes. A writer tags a WRITE with a token (see {@link TransferAgent#post(TransferOp,
 * List, String, List, byte[], long)}); this agent lets it land only in ranges granted to that token, and not after the
 * token was revoked. A decode worker grants a reservation's token over the reservation's blocks, and revokes it when
 * it gives up on the remote prefill (timeout, cancel): once {@link #revoke}'s future completed, no write of that
 * token lands any more, so the blocks can be reused. Enforced by the receiver for every backend: tcp checks each
 * frame before a byte lands; one-sided backends (shm, ucx) must first obtain a lease for the token and ranges, which
 * pins the token until the writer released it. Thread-safe.
 */
public interface WriteFences {

    /**
     * Writes carrying {@code token} (non-zero) may land in {@code localRanges} of this agent's regions; adds to what
     * the token was granted before. Tokens are never reused: granting one that was revoked fails.
     */
    void grant(long token, List<MemoryDescriptor> localRanges);

    /**
     * From now on writes of {@code token} are dropped (and counted); completes when no write of that token is still in
     * flight: tcp frames being copied, shm/ucx leases not yet released (or whose connection closed). Completes at once
     * for a token that was never granted.
     */
    CompletableFuture<Void> revoke(long token);

    /** Writes dropped so far (refused tokens, revoked tokens, unfenced writes while fences are required). */
    long fenced();
}
