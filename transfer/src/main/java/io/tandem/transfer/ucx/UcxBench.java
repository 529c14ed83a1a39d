package io.tandem.transfer.ucx;

import io.tandem.protocol.progress.Progress;
import io.tandem.transfer.AgentMetadata;
import io.tandem.transfer.MemoryDescriptor;
import io.tandem.transfer.RegisteredRegion;
import io.tandem.transfer.TransferConfig;
import io.tandem.transfer.TransferContext;
import io.tandem.transfer.TransferOp;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * WRITE and READ latency and bandwidth of {@link UcxBackend} between this process and a peer process it starts, per
 * UCX transport set; prints a markdown table. Latency: one transfer at a time (puts/gets + flush), p50 and mean. Bandwidth:
 * {@value #WINDOW} transfers in flight. Usage: {@code UcxBench [tls;tls...] [sizes in bytes, comma separated]}; a tls set
 * {@code default} leaves UCX_TLS unset.
 */
public final class UcxBench {
    private static final int WINDOW = 16;
    private static final long MIB = 1 << 20;

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--peer")) {
            peer(Long.parseLong(args[1]));
            return;
        }
        UcxBackend.unavailableReason().ifPresent(r -> {
            throw new IllegalStateException("UCX unavailable: " + r);
        });
        String[] tlsSets = (args.length > 0 ? args[0] : "tcp;posix,sysv,cma,self").split(";");
        long[] sizes = Arrays.stream((args.length > 1 ? args[1] : "65536,1048576,16777216,268435456").split(","))
                .mapToLong(Long::parseLong).toArray();
        long max = Arrays.stream(sizes).max().orElseThrow();
        System.out.println("| UCX_TLS | op | size | iters | latency p50 (µs) | latency mean (µs) | bandwidth (MiB/s, " + WINDOW + " in flight) |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|");
        try (Progress progress = Progress.onStderr("ucx-bench", "measurements", (long) tlsSets.length * sizes.length * TransferOp.values().length)) {
            for (String tls : tlsSets) run(tls, sizes, max, progress);
        }
    }

    /** {@code tls} "default" leaves UCX_TLS alone (UCX's own choice, in peer error mode: see docs/TRANSFER-UCX.md). */
    private static void run(String tls, long[] sizes, long max, Progress progress) throws Exception {
        boolean chosen = !tls.equals("default");
        if (chosen) System.setProperty(UcxBackend.TLS_PROPERTY, tls);
        else System.clearProperty(UcxBackend.TLS_PROPERTY);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                UcxBench.class.getName(), "--peer", Long.toString(max)).redirectError(ProcessBuilder.Redirect.INHERIT);
        if (chosen) pb.environment().put("UCX_TLS", tls);
        Process process = pb.start();
        try (Arena arena = Arena.ofShared();
             UcxBackend backend = new UcxBackend(new TransferContext(
                     TransferConfig.of("ucx", "bench").withTimeout(Duration.ofMinutes(2)), null, null))) {
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream()));
            String line;
            while ((line = out.readLine()) != null && !line.startsWith("META ")) { }
            if (line == null) throw new IllegalStateException("peer exited before its metadata");
            AgentMetadata peer = AgentMetadata.fromJson(new JsonObject(line.substring(5)));
            MemorySegment memory = arena.allocate(max, 4096);
            memory.fill((byte) 1);
            backend.register(new RegisteredRegion(0, "bench", memory, null));
            backend.loadPeer(peer);
            for (long size : sizes) {
                for (TransferOp op : TransferOp.values()) {
                    List<MemoryDescriptor> d = List.of(new MemoryDescriptor(0, 0, size));
                    List<MemorySegment> slice = List.of(memory.asSlice(0, size));
                    long latencyIters = Math.clamp(128 * MIB / size, 5, 1000);
                    long bwIters = Math.clamp(1024 * MIB / size, 4 * WINDOW, 4000);
                    for (int i = 0; i < Math.min(latencyIters, 20); i++) backend.transfer(op, d, slice, peer, d).join();
                    long[] nanos = new long[(int) latencyIters];
                    for (int i = 0; i < latencyIters; i++) {
                        long t0 = System.nanoTime();
                        backend.transfer(op, d, slice, peer, d).join();
                        nanos[i] = System.nanoTime() - t0;
                    }
                    Arrays.sort(nanos);
                    double medianUs = nanos[nanos.length / 2] / 1e3;
                    double meanUs = Arrays.stream(nanos).average().orElseThrow() / 1e3;
                    ArrayDeque<CompletableFuture<Void>> window = new ArrayDeque<>();
                    long t1 = System.nanoTime();
                    for (long i = 0; i < bwIters; i++) {
                        if (window.size() == WINDOW) window.poll().join();
                        window.add(backend.transfer(op, d, slice, peer, d));
                    }
                    while (!window.isEmpty()) window.poll().join();
                    double mibPerSec = (double) size * bwIters / MIB / ((System.nanoTime() - t1) / 1e9);
                    progress.clear(); // the bar off the line before the row (a no-op in a log)
                    System.out.printf(Locale.ROOT, "| %s | %s | %s | %d | %.1f | %.1f | %.0f |%n", tls, op, human(size), latencyIters, medianUs, meanUs, mibPerSec);
                    progress.step(tls + " " + op + " " + human(size));
                }
            }
            backend.forgetPeer(peer.agent());
        } finally {
            new PrintWriter(process.getOutputStream(), true).println("quit");
            process.waitFor();
        }
    }

    private static String human(long size) {
        return size >= MIB ? size / MIB + " MiB" : size / 1024 + " KiB";
    }

    /** The peer side: one registered region, served by the backend's progress thread until "quit" on stdin. */
    private static void peer(long size) throws Exception {
        try (Arena arena = Arena.ofShared();
             UcxBackend backend = new UcxBackend(new TransferContext(TransferConfig.of("ucx", "bench-peer"), null, null))) {
            RegisteredRegion region = new RegisteredRegion(0, "bench", arena.allocate(size, 4096), null);
            backend.register(region);
            AgentMetadata meta = new AgentMetadata("bench-peer", "host", "127.0.0.1", 0, List.of(region.info()),
                    Map.of(UcxBackend.NAME, backend.payload()));
            System.out.println("META " + meta.toJson().encode());
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
            for (String line; (line = in.readLine()) != null && !line.equals("quit"); ) { }
        }
    }
}
