package io.tandem.engine.cpu;

import io.tandem.engine.kernels.ComputePriority;
import io.tandem.engine.kernels.KernelMode;
import io.tandem.engine.kv.KvDataType;
import io.tandem.engine.kv.KvLayout;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Settings of the {@link CpuEngine}; the names follow vLLM's where one exists.
 *
 * @param threads             compute threads of the forward pass
 * @param kernels             Vector API kernels, scalar, or auto (vector when available)
 * @param kvCacheBytes        memory for the paged KV cache (all layers, K and V); sets the number of blocks (at most 4
 *                            full contexts per {@code maxNumSeqs} slot are allocated)
 * @param kvDataType          element type of the KV cache
 * @param blockSize           tokens per KV block
 * @param maxNumBatchedTokens tokens computed per engine step at most (chunked prefill splits longer prompts)
 * @param stepLatencyTargetMs while requests decode, a step adds only the prompt tokens its measured cost predicts
 *                            within this many milliseconds, so a long prompt does not stall every stream (decode-first,
 *                            stall-free batching); 0 lets prompts take whatever {@code maxNumBatchedTokens} leaves
 * @param maxNumSeqs          sequences in the running batch at most
 * @param maxWaitingRequests  requests queued beyond the batch; more are refused as overloaded
 * @param prefixCaching       reuse KV blocks of identical prompt prefixes
 * @param computePriority     how the compute threads yield to the event loops that share the cores (the worker's
 *                            streams, an embedded gateway), option {@code compute-nice}: {@code auto} (the default:
 *                            as they are where this process's event loops run real-time, else {@code idle}),
 *                            {@code idle} (Linux {@code SCHED_IDLE}) or a nice value 0..19 (0 leaves them as they are)
 */
public record CpuEngineConfig(
        int threads,
        KernelMode kernels,
        long kvCacheBytes,
        KvDataType kvDataType,
        int blockSize,
        int maxNumBatchedTokens,
        int stepLatencyTargetMs,
        int maxNumSeqs,
        int maxWaitingRequests,
        boolean prefixCaching,
        ComputePriority computePriority) {

    public static final Set<String> KEYS = Set.of("threads", "kernels", "kv-cache-memory", "kv-dtype", "block-size",
            "max-num-batched-tokens", "step-latency-target-ms", "max-num-seqs", "max-waiting-requests", "prefix-caching",
            "compute-nice");

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmgt]i?b?|b)?", Pattern.CASE_INSENSITIVE);

    public CpuEngineConfig {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (kernels == null) throw new IllegalArgumentException("kernels is required");
        if (kvCacheBytes < 1) throw new IllegalArgumentException("kv-cache-memory must be positive, got " + kvCacheBytes);
        if (kvDataType == null) throw new IllegalArgumentException("kv-dtype is required");
        if (blockSize < 1 || blockSize > 1024) throw new IllegalArgumentException("block-size must be 1..1024, got " + blockSize);
        if (maxNumBatchedTokens < 1) throw new IllegalArgumentException("max-num-batched-tokens must be >= 1, got " + maxNumBatchedTokens);
        if (stepLatencyTargetMs < 0) throw new IllegalArgumentException("step-latency-target-ms must be >= 0 (0 = none), got " + stepLatencyTargetMs);
        if (maxNumSeqs < 1) throw new IllegalArgumentException("max-num-seqs must be >= 1, got " + maxNumSeqs);
        if (maxWaitingRequests < 0) throw new IllegalArgumentException("max-waiting-requests must be >= 0, got " + maxWaitingRequests);
        if (computePriority == null) throw new IllegalArgumentException("compute-nice is required");
    }

    /**
     * Compute threads yield to the event loops on shared cores by default: the loops run real-time where Linux permits
     * it, and else the compute threads run in {@code SCHED_IDLE} ({@link ComputePriority.Auto}). {@code SCHED_IDLE}
     * rather than a nice value: under Linux's EEVDF scheduler a waking fair event loop still waited for a nice-10
     * compute thread's slice (the gateway's accept hop had a 2.6-13 ms p90 at 16 streams on 2 cores).
     */
    public static final ComputePriority DEFAULT_COMPUTE_PRIORITY = ComputePriority.AUTO;

    /**
     * Steps holding decodes are kept within this by default: an inter-token gap a reader does not notice. 50 rather
     * than 100: on 2 cores it cut ITL p99 by a third at 8 and 16 streams without costing throughput or TTFT
     * (docs/BENCHMARKS.md, 2026-12-06 late afternoon).
     */
    public static final int DEFAULT_STEP_LATENCY_TARGET_MS = 50;

    /**
     * All cores, auto kernels, 512 MiB of F32 KV in blocks of 16, 512 tokens and 32 sequences per step, steps with
     * decodes within {@value #DEFAULT_STEP_LATENCY_TARGET_MS} ms.
     */
    public static CpuEngineConfig defaults() {
        return new CpuEngineConfig(Runtime.getRuntime().availableProcessors(), KernelMode.AUTO, 512L << 20,
                KvDataType.F32, KvLayout.DEFAULT_BLOCK_SIZE, 512, DEFAULT_STEP_LATENCY_TARGET_MS, 32, 256, true,
                DEFAULT_COMPUTE_PRIORITY);
    }

    /**
     * The defaults overridden by {@code options} ({@link #KEYS}; values as numbers or strings, sizes
     * like {@code 512MiB} or {@code 2g}), as given by {@code --engine-option} or a config file.
     */
    public static CpuEngineConfig fromMap(Map<String, ?> options) {
        for (String k : options.keySet()) {
            if (!KEYS.contains(k)) {
                throw new IllegalArgumentException("unknown cpu engine option '" + k + "'; known: " + new TreeSet<>(KEYS));
            }
        }
        CpuEngineConfig d = defaults();
        return new CpuEngineConfig(
                integer(options, "threads", d.threads),
                options.containsKey("kernels") ? kernelMode(options.get("kernels").toString()) : d.kernels,
                options.containsKey("kv-cache-memory") ? bytes(options.get("kv-cache-memory").toString()) : d.kvCacheBytes,
                options.containsKey("kv-dtype") ? kvType(options.get("kv-dtype").toString()) : d.kvDataType,
                integer(options, "block-size", d.blockSize),
                integer(options, "max-num-batched-tokens", d.maxNumBatchedTokens),
                integer(options, "step-latency-target-ms", d.stepLatencyTargetMs),
                integer(options, "max-num-seqs", d.maxNumSeqs),
                integer(options, "max-waiting-requests", d.maxWaitingRequests),
                options.containsKey("prefix-caching") ? bool(options.get("prefix-caching")) : d.prefixCaching,
                options.containsKey("compute-nice") ? priority(options.get("compute-nice").toString()) : d.computePriority);
    }

    /** Parses {@code 1234}, {@code 64k}, {@code 512MiB}, {@code 2GB}, ... (binary multiples). */
    public static long bytes(String s) {
        Matcher m = SIZE.matcher(s.trim());
        if (!m.matches()) throw new IllegalArgumentException("not a size: '" + s + "' (examples: 536870912, 512MiB, 2g)");
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        int shift = switch (unit.charAt(0)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        return Math.multiplyExact(n, 1L << shift);
    }

    private static KernelMode kernelMode(String s) {
        try {
            return KernelMode.valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("kernels must be auto, vector or scalar, got '" + s + "'");
        }
    }

    private static ComputePriority priority(String s) {
        try {
            return ComputePriority.parse(s);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("compute-nice: " + e.getMessage());
        }
    }

    private static KvDataType kvType(String s) {
        try {
            return KvDataType.valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("kv-dtype must be f32 or f16, got '" + s + "'");
        }
    }

    private static boolean bool(Object o) {
        if (o instanceof Boolean b) return b;
        String s = o.toString().trim().toLowerCase(Locale.ROOT);
        if (s.equals("true")) return true;
        if (s.equals("false")) return false;
        throw new IllegalArgumentException("prefix-caching must be true or false, got '" + o + "'");
    }

    private static int integer(Map<String, ?> m, String key, int def) {
        Object v = m.get(key);
        if (v == null) return def;
        if (v instanceof Number n && n.doubleValue() == n.intValue()) return n.intValue();
        try {
            return Integer.parseInt(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cpu engine option '" + key + "' must be an integer, got '" + v + "'");
        }
    }

    public CpuEngineConfig withThreads(int n) {
        return new CpuEngineConfig(n, kernels, kvCacheBytes, kvDataType, blockSize, maxNumBatchedTokens, stepLatencyTargetMs,
                maxNumSeqs, maxWaitingRequests, prefixCaching, computePriority);
    }

    public CpuEngineConfig withKvCache(long bytes, KvDataType type) {
        return new CpuEngineConfig(threads, kernels, bytes, type, blockSize, maxNumBatchedTokens, stepLatencyTargetMs,
                maxNumSeqs, maxWaitingRequests, prefixCaching, computePriority);
    }

    public CpuEngineConfig withStepLatencyTarget(int ms) {
        return new CpuEngineConfig(threads, kernels, kvCacheBytes, kvDataType, blockSize, maxNumBatchedTokens, ms,
                maxNumSeqs, maxWaitingRequests, prefixCaching, computePriority);
    }

    public CpuEngineConfig withBatching(int maxBatchedTokens, int maxSeqs) {
        return new CpuEngineConfig(threads, kernels, kvCacheBytes, kvDataType, blockSize, maxBatchedTokens, stepLatencyTargetMs,
                maxSeqs, maxWaitingRequests, prefixCaching, computePriority);
    }
}
