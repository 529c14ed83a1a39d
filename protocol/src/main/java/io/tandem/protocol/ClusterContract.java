package io.tandem.protocol;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * What workers of one model must agree on before they share routing or exchange KV, carried in every
 * {@link WorkerRecord} and checked, never assumed.
 *
 * @param modelFingerprint the served GGUF's fingerprint (its metadata and tensor layout, {@code ModelFingerprint})
 * @param blockSize        tokens per KV block: also the unit of the block hashes routers and prefix caches share
 * @param kvDtype          element type of the KV cache, lower case ({@code f32}, {@code f16}), or {@link #NO_KV}
 * @param kvLayout         shape of one token's KV, {@link #kvLayout(int, int, int) layers x kv heads x head dim}
 *                         (e.g. {@code 22x4x64}), or {@link #NO_KV}
 * @param protocolVersion  {@link ProtocolVersion#CURRENT} of the worker's build
 */
public record ClusterContract(String modelFingerprint, int blockSize, String kvDtype, String kvLayout, int protocolVersion) {

    /** KV dtype and layout of an engine without a paged KV cache (the simulated engine): it exchanges no KV. */
    public static final String NO_KV = "none";

    public ClusterContract {
        if (modelFingerprint == null || modelFingerprint.isBlank()) throw new IllegalArgumentException("a cluster contract needs a model fingerprint");
        if (blockSize < 1) throw new IllegalArgumentException("block size must be >= 1, got " + blockSize);
        Objects.requireNonNull(kvDtype, "kvDtype");
        Objects.requireNonNull(kvLayout, "kvLayout");
    }

    /** A contract of this build's protocol version. */
    public static ClusterContract of(String modelFingerprint, int blockSize, String kvDtype, String kvLayout) {
        return new ClusterContract(modelFingerprint, blockSize, kvDtype, kvLayout, ProtocolVersion.CURRENT);
    }

    /** The canonical layout string: {@code layers x kvHeads x headDim}. */
    public static String kvLayout(int layers, int kvHeads, int headDim) {
        return layers + "x" + kvHeads + "x" + headDim;
    }

    /** The canonical dtype string of an enum constant name such as {@code F16}. */
    public static String kvDtype(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    /** The terms of a contract, in the order they are checked (the first that differs is the reason). */
    public enum Term {
        PROTOCOL("protocol"), FINGERPRINT("fingerprint"), BLOCK_SIZE("block_size"), KV_DTYPE("kv_dtype"), KV_LAYOUT("kv_layout");

        private final String label;

        Term(String label) {
            this.label = label;
        }

        /** The metric label and log name, e.g. {@code block_size}. */
        public String label() {
            return label;
        }
    }

    /** A term on which two contracts differ, with both values for the log. */
    public record Mismatch(Term term, String mine, String theirs) {
        @Override
        public String toString() {
            return term.label() + " " + theirs + " instead of " + mine;
        }
    }

    /** The first term on which {@code other} differs from this contract, or empty when they agree on every term. */
    public Optional<Mismatch> mismatch(ClusterContract other) {
        if (other == null) return Optional.of(new Mismatch(Term.PROTOCOL, Integer.toString(protocolVersion), "no contract"));
        if (protocolVersion != other.protocolVersion) {
            return Optional.of(new Mismatch(Term.PROTOCOL, Integer.toString(protocolVersion), Integer.toString(other.protocolVersion)));
        }
        if (!modelFingerprint.equals(other.modelFingerprint)) {
            return Optional.of(new Mismatch(Term.FINGERPRINT, modelFingerprint, other.modelFingerprint));
        }
        if (blockSize != other.blockSize) {
            return Optional.of(new Mismatch(Term.BLOCK_SIZE, Integer.toString(blockSize), Integer.toString(other.blockSize)));
        }
        if (!kvDtype.equals(other.kvDtype)) return Optional.of(new Mismatch(Term.KV_DTYPE, kvDtype, other.kvDtype));
        if (!kvLayout.equals(other.kvLayout)) return Optional.of(new Mismatch(Term.KV_LAYOUT, kvLayout, other.kvLayout));
        return Optional.empty();
    }

    /**
     * Whether a worker of {@code other} may write KV blocks for one of this contract (or the reverse): every term
     * equal, and both have a paged KV cache.
     */
    public boolean canExchangeKv(ClusterContract other) {
        return !NO_KV.equals(kvDtype) && mismatch(other).isEmpty();
    }

    /**
     * Whether workers of both contracts may be routed to as one pool: same protocol, model and block size, so a
     * prompt's block hashes mean the same on both.
     */
    public boolean canShareRouting(ClusterContract other) {
        return mismatch(other).map(m -> m.term().compareTo(Term.BLOCK_SIZE) > 0).orElse(true);
    }

    @Override
    public String toString() {
        return "model " + modelFingerprint + ", block size " + blockSize + ", kv " + kvDtype + " " + kvLayout
                + ", protocol " + protocolVersion;
    }
}
