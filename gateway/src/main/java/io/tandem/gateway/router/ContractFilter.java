package io.tandem.gateway.router;

import io.tandem.protocol.ClusterContract;
import io.tandem.protocol.ClusterContract.Mismatch;
import io.tandem.protocol.ClusterContract.Term;
import io.tandem.protocol.ProtocolVersion;
import io.tandem.protocol.WorkerRecord;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalInt;

/**
 * Which live workers of one model a gateway may route to, by their {@link ClusterContract}s. Pure: records in, a
 * decision out, the same on every gateway that sees the same records.
 *
 * <p>A worker is refused when it speaks another protocol version than this gateway, or serves another model file
 * than the one the gateway loaded (fingerprint) — tokens would be right in neither case. Among the others, the
 * contract of the worker registered first (then the smallest worker id) is the model's: workers with another block
 * size, KV dtype or layout are refused, so the router's block hashes mean the same on every worker it chooses from
 * and a prefill worker always writes KV its decode worker can read. A worker registered later never displaces the
 * accepted ones.
 */
public final class ContractFilter {

    private ContractFilter() {
    }

    /** A refused worker: which term differs, and from what (the gateway's own, or the first worker's). */
    public record Refusal(WorkerRecord worker, Mismatch mismatch, String reference) {
        /** The metric label: {@code protocol}, {@code fingerprint}, {@code block_size}, {@code kv_dtype} or {@code kv_layout}. */
        public String reason() {
            return mismatch.term().label();
        }

        /** The log line's text. */
        public String describe() {
            return "worker " + worker.workerId() + " (" + worker.role().name().toLowerCase(java.util.Locale.ROOT) + ", node "
                    + worker.nodeId() + ") is refused for model '" + worker.model() + "': " + mismatch + " (" + reference
                    + "); it gets no requests";
        }
    }

    /**
     * @param accepted the workers that may be routed to, in the order given
     * @param refused  the others, with why
     * @param contract the model's contract (the first registered compatible worker's), null when none is accepted
     */
    public record Decision(List<WorkerRecord> accepted, List<Refusal> refused, ClusterContract contract) {
        public static final Decision NONE = new Decision(List.of(), List.of(), null);

        /** The block size every accepted worker hashes with; empty when no worker is accepted. */
        public OptionalInt blockSize() {
            return contract == null ? OptionalInt.empty() : OptionalInt.of(contract.blockSize());
        }
    }

    /**
     * @param fingerprint the fingerprint of the model file this gateway loaded for the workers' model
     * @param workers     the live workers of that model (any role)
     */
    public static Decision decide(String fingerprint, List<WorkerRecord> workers) {
        if (workers.isEmpty()) return Decision.NONE;
        List<Refusal> refused = new ArrayList<>();
        List<WorkerRecord> sameModel = new ArrayList<>();
        for (WorkerRecord w : workers) {
            ClusterContract c = w.contract();
            if (c == null || c.protocolVersion() != ProtocolVersion.CURRENT) {
                String theirs = c == null ? "no contract" : Integer.toString(c.protocolVersion());
                refused.add(new Refusal(w, new Mismatch(Term.PROTOCOL, Integer.toString(ProtocolVersion.CURRENT), theirs),
                        "this gateway's protocol version"));
            } else if (!c.modelFingerprint().equals(fingerprint)) {
                refused.add(new Refusal(w, new Mismatch(Term.FINGERPRINT, fingerprint, c.modelFingerprint()),
                        "the model file this gateway loaded"));
            } else {
                sameModel.add(w);
            }
        }
        if (sameModel.isEmpty()) return new Decision(List.of(), List.copyOf(refused), null);
        WorkerRecord first = sameModel.stream()
                .min(Comparator.comparingLong(WorkerRecord::registeredMillis).thenComparing(WorkerRecord::workerId))
                .orElseThrow();
        List<WorkerRecord> accepted = new ArrayList<>();
        for (WorkerRecord w : sameModel) {
            var mismatch = first.contract().mismatch(w.contract());
            if (mismatch.isEmpty()) {
                accepted.add(w);
            } else {
                refused.add(new Refusal(w, mismatch.get(), "the contract of worker " + first.workerId() + ", registered first"));
            }
        }
        return new Decision(List.copyOf(accepted), List.copyOf(refused), first.contract());
    }
}
