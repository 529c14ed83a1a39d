package io.tandem.transfer.ucx;

import io.tandem.transfer.TransferException;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.MemorySegment.NULL;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A UCP context and one single-threaded worker, driven by one platform thread that owns every UCX call: it runs
 * submitted commands, calls {@code ucp_worker_progress} in a loop (the memory owner must progress too, or wire-up and
 * emulated RMA stall) and polls transfers in flight. It spins while there is traffic; when idle it arms the worker and
 * sleeps in poll(2) on its event fd, so a peer's traffic or a new command ({@code ucp_worker_signal}) wakes it at once.
 *
 * <p>Endpoints are created with an error handler (an FFM upcall). UCX calls it from inside its progress, so it only
 * queues the failure; the loop hands it to the {@link EndpointErrors} listener right after {@code ucp_worker_progress}
 * returns, where it is safe to free requests and close the endpoint.
 */
final class UcxWorker {
    /** Told on the progress thread that UCX declared the endpoint created with {@code endpointId} failed. */
    @FunctionalInterface
    interface EndpointErrors {
        void failed(long endpointId, byte status) throws Throwable;
    }

    private record EndpointError(long endpointId, byte status) {
    }

    private static final System.Logger LOG = System.getLogger(UcxWorker.class.getName());

    /**
     * How long to keep spinning after the last event before sleeping on the event fd (env TANDEM_UCX_SPIN_US, default
     * 0). Spinning only pays on idle cores: on a loaded 2-core host it starved the peer and cost milliseconds per op.
     */
    private static final long SPIN_AFTER_ACTIVITY_NANOS = TimeUnit.MICROSECONDS.toNanos(Long.parseLong(System.getenv().getOrDefault("TANDEM_UCX_SPIN_US", "0")));
    private static final int MAX_SLEEP_MILLIS = 100;
    private static final long IN_FLIGHT_YIELD_NANOS = TimeUnit.MICROSECONDS.toNanos(
            Long.parseLong(System.getenv().getOrDefault("TANDEM_UCX_YIELD_US", "5000")));

    private final Queue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final Queue<EndpointError> endpointErrors = new ConcurrentLinkedQueue<>();
    private final EndpointErrors errorListener;
    private final List<UcxTransfer> inflight = new ArrayList<>();
    private final Arena arena = Arena.ofShared();
    private final Thread thread;
    private volatile boolean running = true;
    private MemorySegment context = NULL;
    private volatile MemorySegment worker = NULL;
    private byte[] address;
    private final MemorySegment pollFd = arena.allocate(8, 4); // struct pollfd { int fd; short events, revents; }
    private final Object signalLock = new Object(); // ucp_worker_signal from other threads vs worker destroy
    final MemorySegment defaultParam = arena.allocate(Ucp.REQUEST_PARAM_SIZE, 8);
    private final MemorySegment forceCloseParam = arena.allocate(Ucp.REQUEST_PARAM_SIZE, 8);
    /** The native entry of {@link #onEndpointError}; lives as long as the arena, which outlives the UCP worker. */
    private final MemorySegment errorHandler;

    /**
     * Starts the thread and creates the context and worker on it; throws TransferException when UCX refuses.
     * {@code settings}: UCX configuration over the environment's (e.g. TLS, NET_DEVICES; blank values are ignored).
     * {@code errorListener} hears of every endpoint UCX declares failed.
     */
    UcxWorker(Map<String, String> settings, EndpointErrors errorListener) {
        this.errorListener = errorListener;
        try {
            errorHandler = Linker.nativeLinker().upcallStub(MethodHandles.lookup().findVirtual(UcxWorker.class, "onEndpointError",
                    MethodType.methodType(void.class, MemorySegment.class, MemorySegment.class, byte.class)).bindTo(this), Ucp.ERR_HANDLER, arena);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        forceCloseParam.set(JAVA_INT, 0, Ucp.OP_ATTR_FIELD_FLAGS);
        forceCloseParam.set(JAVA_INT, Ucp.REQUEST_PARAM_FLAGS, Ucp.EP_CLOSE_FLAG_FORCE);
        CompletableFuture<Void> started = new CompletableFuture<>();
        thread = Thread.ofPlatform().name("tandem-transfer-ucx-progress").daemon(true).unstarted(() -> run(settings, started));
        thread.start();
        await(started);
    }

    /** A command for the progress thread; native calls declare Throwable. */
    interface Command<T> {
        T run() throws Throwable;
    }

    /** Runs {@code command} on the progress thread. */
    <T> CompletableFuture<T> submit(Command<T> command) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Runnable r = () -> {
            try {
                f.complete(command.run());
            } catch (Throwable t) {
                f.completeExceptionally(t instanceof TransferException ? t : new TransferException(String.valueOf(t.getMessage()), t));
            }
        };
        // under the lock that stopping takes: a command is either refused or run before UCX is destroyed
        synchronized (signalLock) {
            if (!running) {
                f.completeExceptionally(new TransferException("UCX backend is closed"));
                return f;
            }
            commands.add(r);
            wake();
        }
        return f;
    }

    /** Runs {@code command} on the progress thread and waits for it. */
    <T> T call(Command<T> command) {
        if (Thread.currentThread() == thread) {
            try {
                return command.run();
            } catch (Throwable t) {
                throw Ucp.rethrow(t);
            }
        }
        return await(submit(command));
    }

    private void wake() {
        synchronized (signalLock) {
            if (worker.equals(NULL)) return;
            try {
                byte ignored = (byte) Ucp.workerSignal.invokeExact(worker);
            } catch (Throwable t) {
                throw Ucp.rethrow(t);
            }
        }
    }

    static <T> T await(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /** Stops the loop after {@code finalCommand} (which must release everything the backend holds) and destroys UCX. */
    void shutdown(Runnable finalCommand) {
        if (!running) return;
        try {
            call(() -> {
                try {
                    finalCommand.run();
                } finally {
                    synchronized (signalLock) {
                        running = false;
                    }
                }
                return null;
            });
        } catch (TransferException e) {
            if (running) throw e; // else another close got there first
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run(Map<String, String> settings, CompletableFuture<Void> started) {
        try {
            init(settings);
            started.complete(null);
        } catch (Throwable t) {
            running = false;
            destroy();
            started.completeExceptionally(t);
            return;
        }
        long lastActivity = System.nanoTime();
        while (running) {
            boolean busy = runCommands();
            busy |= progress() > 0;
            busy |= handleEndpointErrors();
            busy |= pollTransfers();
            long now = System.nanoTime();
            if (busy) {
                lastActivity = now;
            } else if (!inflight.isEmpty() && now - lastActivity < IN_FLIGHT_YIELD_NANOS) {
                // sends may be waiting for room the peer frees without an event here: keep progressing, but yield
                // the core, the peer may need it to drain
                Thread.yield();
            } else if (now - lastActivity > SPIN_AFTER_ACTIVITY_NANOS) {
                // with transfers in flight wake up at least every millisecond to check their deadlines
                sleepUntilEvent(inflight.isEmpty() ? MAX_SLEEP_MILLIS : 1);
            } else {
                Thread.onSpinWait();
            }
        }
        for (UcxTransfer t : inflight) t.abort("UCX backend closed");
        inflight.clear();
        Runnable r;
        while ((r = commands.poll()) != null) r.run(); // accepted before running went false
        destroy();
    }

    /** Arms the worker and waits on its event fd; returns at once when events are pending (UCS_ERR_BUSY). */
    private void sleepUntilEvent(int maxMillis) {
        try {
            byte armed = (byte) Ucp.workerArm.invokeExact(worker);
            if (armed == Ucp.UCS_ERR_BUSY) return;
            Ucp.check(armed, "ucp_worker_arm");
            if (!commands.isEmpty()) return;
            pollFd.set(JAVA_SHORT, 6, (short) 0);
            int ignored = (int) Ucp.poll.invokeExact(pollFd, 1L, maxMillis);
        } catch (Throwable t) {
            throw Ucp.rethrow(t);
        }
    }

    /**
     * The error callback of every endpoint, called by UCX on this thread from inside a UCX call (usually
     * {@code ucp_worker_progress}): it only queues the failure. Nothing may escape into native code, where a Java
     * exception would kill the JVM.
     */
    private void onEndpointError(MemorySegment arg, MemorySegment ep, byte status) {
        try {
            endpointErrors.add(new EndpointError(arg.address(), status));
        } catch (Throwable t) {
            // a lost failure still ends in the transfer's own error or timeout
        }
    }

    /** Hands queued endpoint failures to the listener, outside any UCX callback. */
    private boolean handleEndpointErrors() {
        boolean any = false;
        for (EndpointError e; (e = endpointErrors.poll()) != null; ) {
            any = true;
            try {
                errorListener.failed(e.endpointId(), e.status());
            } catch (Throwable t) {
                LOG.log(System.Logger.Level.WARNING, "handling the failure of UCX endpoint " + e.endpointId() + ": " + t, t);
            }
        }
        return any;
    }

    private boolean runCommands() {
        boolean any = false;
        Runnable r;
        while ((r = commands.poll()) != null) {
            r.run();
            any = true;
        }
        return any;
    }

    int progress() {
        try {
            return (int) Ucp.workerProgress.invokeExact(worker);
        } catch (Throwable t) {
            throw Ucp.rethrow(t);
        }
    }

    private boolean pollTransfers() {
        if (inflight.isEmpty()) return false;
        long now = System.nanoTime();
        boolean any = false;
        for (Iterator<UcxTransfer> it = inflight.iterator(); it.hasNext(); ) {
            if (it.next().poll(now)) {
                it.remove();
                any = true;
            }
        }
        return any;
    }

    /** Progress thread only: posts a transfer and polls it from now on. */
    void start(UcxTransfer transfer, List<UcxTransfer.Op> ops) {
        transfer.start(ops);
        inflight.add(transfer);
    }

    /** Progress thread only: fails the transfers with {@code peer}; returns how many there were. */
    int abortTransfers(UcxPeer peer, String reason) {
        int n = 0;
        for (Iterator<UcxTransfer> it = inflight.iterator(); it.hasNext(); ) {
            UcxTransfer t = it.next();
            if (t.peer == peer) {
                t.abort(reason);
                it.remove();
                n++;
            }
        }
        return n;
    }

    private void init(Map<String, String> settings) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment configOut = a.allocate(ADDRESS);
            Ucp.check((byte) Ucp.configRead.invokeExact(NULL, NULL, configOut), "ucp_config_read");
            MemorySegment config = configOut.get(ADDRESS, 0);
            try {
                for (Map.Entry<String, String> s : settings.entrySet()) {
                    if (s.getValue() == null || s.getValue().isBlank()) continue;
                    Ucp.check((byte) Ucp.configModify.invokeExact(config, a.allocateFrom(s.getKey()), a.allocateFrom(s.getValue())),
                            "ucp_config_modify " + s.getKey() + "=" + s.getValue());
                }
                MemorySegment params = a.allocate(Ucp.PARAMS_SIZE, 8);
                params.set(JAVA_LONG, 0, Ucp.PARAM_FIELD_FEATURES | Ucp.PARAM_FIELD_NAME);
                params.set(JAVA_LONG, Ucp.PARAMS_FEATURES, Ucp.FEATURE_RMA | Ucp.FEATURE_WAKEUP);
                params.set(ADDRESS, Ucp.PARAMS_NAME, a.allocateFrom("tandem-transfer"));
                MemorySegment contextOut = a.allocate(ADDRESS);
                Ucp.check((byte) Ucp.initVersion.invokeExact(Ucp.API_MAJOR, Ucp.API_MINOR, params, config, contextOut), "ucp_init");
                context = contextOut.get(ADDRESS, 0);
            } finally {
                Ucp.configRelease.invokeExact(config);
            }
            MemorySegment workerParams = a.allocate(Ucp.WORKER_PARAMS_SIZE, 8);
            workerParams.set(JAVA_LONG, 0, Ucp.WORKER_PARAM_FIELD_THREAD_MODE);
            workerParams.set(JAVA_INT, Ucp.WORKER_PARAMS_THREAD_MODE, Ucp.THREAD_MODE_SINGLE);
            MemorySegment workerOut = a.allocate(ADDRESS);
            Ucp.check((byte) Ucp.workerCreate.invokeExact(context, workerParams, workerOut), "ucp_worker_create");
            worker = workerOut.get(ADDRESS, 0);
            MemorySegment addressOut = a.allocate(ADDRESS), lengthOut = a.allocate(JAVA_LONG);
            Ucp.check((byte) Ucp.workerGetAddress.invokeExact(worker, addressOut, lengthOut), "ucp_worker_get_address");
            MemorySegment addr = addressOut.get(ADDRESS, 0);
            address = addr.reinterpret(lengthOut.get(JAVA_LONG, 0)).toArray(JAVA_BYTE);
            Ucp.workerReleaseAddress.invokeExact(worker, addr);
            MemorySegment fdOut = a.allocate(JAVA_INT);
            Ucp.check((byte) Ucp.workerGetEfd.invokeExact(worker, fdOut), "ucp_worker_get_efd");
            pollFd.set(JAVA_INT, 0, fdOut.get(JAVA_INT, 0));
            pollFd.set(JAVA_SHORT, 4, Ucp.POLLIN);
        }
    }

    private void destroy() {
        synchronized (signalLock) {
            try {
                if (!worker.equals(NULL)) Ucp.workerDestroy.invokeExact(worker);
                if (!context.equals(NULL)) Ucp.cleanup.invokeExact(context);
            } catch (Throwable t) {
                throw Ucp.rethrow(t);
            } finally {
                worker = NULL;
                context = NULL;
                arena.close();
            }
        }
    }

    byte[] address() {
        return address.clone();
    }

    /** Progress thread only: {@code ucp_mem_map} of existing memory for local and remote read/write; returns the memh. */
    MemorySegment memMap(MemorySegment memory) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment params = a.allocate(Ucp.MEM_MAP_PARAMS_SIZE, 8);
            params.set(JAVA_LONG, 0, Ucp.MEM_MAP_FIELD_ADDRESS | Ucp.MEM_MAP_FIELD_LENGTH | Ucp.MEM_MAP_FIELD_PROT);
            params.set(ADDRESS, Ucp.MEM_MAP_ADDRESS, memory);
            params.set(JAVA_LONG, Ucp.MEM_MAP_LENGTH, memory.byteSize());
            params.set(JAVA_INT, Ucp.MEM_MAP_PROT, Ucp.PROT_LOCAL_READ | Ucp.PROT_LOCAL_WRITE | Ucp.PROT_REMOTE_READ | Ucp.PROT_REMOTE_WRITE);
            MemorySegment memhOut = a.allocate(ADDRESS);
            Ucp.check((byte) Ucp.memMap.invokeExact(context, params, memhOut), "ucp_mem_map");
            return memhOut.get(ADDRESS, 0);
        }
    }

    void memUnmap(MemorySegment memh) throws Throwable {
        Ucp.check((byte) Ucp.memUnmap.invokeExact(context, memh), "ucp_mem_unmap");
    }

    /** Progress thread only: the packed rkey of a mapped region, copied out (the UCX buffer is released). */
    byte[] rkeyPack(MemorySegment memh) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment bufferOut = a.allocate(ADDRESS), sizeOut = a.allocate(JAVA_LONG);
            Ucp.check((byte) Ucp.rkeyPack.invokeExact(context, memh, bufferOut, sizeOut), "ucp_rkey_pack");
            MemorySegment buffer = bufferOut.get(ADDRESS, 0);
            byte[] rkey = buffer.reinterpret(sizeOut.get(JAVA_LONG, 0)).toArray(JAVA_BYTE);
            Ucp.rkeyBufferRelease.invokeExact(buffer);
            return rkey;
        }
    }

    /**
     * An endpoint; {@code id} is the argument its error callback gets. {@code peerFailureDetection}: whether UCX fails
     * its requests and calls the callback when the peer dies (error mode PEER), or only the transfer timeout can.
     */
    record Endpoint(MemorySegment ep, long id, boolean peerFailureDetection) {
    }

    /**
     * Progress thread only: an endpoint to a worker address, in peer error mode with the error callback, so a dead
     * peer fails its requests and is reported to the listener under {@code id}. UCX 1.13 refuses that mode as
     * unreachable when no configured transport can detect peer failure (shared memory only: posix, sysv, and cma,
     * which has no active messages); then, if {@code fallBack}, the endpoint is created without it and the transfer
     * timeout is the bound. A peer that is really unreachable fails in both modes.
     */
    Endpoint epCreate(byte[] workerAddress, long id, boolean fallBack) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment params = a.allocate(Ucp.EP_PARAMS_SIZE, 8);
            params.set(JAVA_LONG, 0, Ucp.EP_PARAM_FIELD_REMOTE_ADDRESS | Ucp.EP_PARAM_FIELD_ERR_HANDLING_MODE | Ucp.EP_PARAM_FIELD_ERR_HANDLER);
            params.set(ADDRESS, Ucp.EP_PARAMS_ADDRESS, a.allocateFrom(JAVA_BYTE, workerAddress));
            params.set(JAVA_INT, Ucp.EP_PARAMS_ERR_MODE, Ucp.ERR_HANDLING_MODE_PEER);
            params.set(ADDRESS, Ucp.EP_PARAMS_ERR_HANDLER_CB, errorHandler);
            params.set(ADDRESS, Ucp.EP_PARAMS_ERR_HANDLER_ARG, MemorySegment.ofAddress(id));
            MemorySegment epOut = a.allocate(ADDRESS);
            byte status = (byte) Ucp.epCreate.invokeExact(worker, params, epOut);
            if (status == Ucp.UCS_ERR_UNREACHABLE && fallBack) {
                params.set(JAVA_INT, Ucp.EP_PARAMS_ERR_MODE, Ucp.ERR_HANDLING_MODE_NONE);
                status = (byte) Ucp.epCreate.invokeExact(worker, params, epOut);
                Ucp.check(status, "ucp_ep_create");
                return new Endpoint(epOut.get(ADDRESS, 0), id, false);
            }
            Ucp.check(status, "ucp_ep_create");
            return new Endpoint(epOut.get(ADDRESS, 0), id, true);
        }
    }

    /**
     * Progress thread only: closes an endpoint, flushing it ({@code force} = false) or cancelling what is in flight,
     * progressing at most {@code maxWaitNanos} for the close to finish.
     */
    void epClose(MemorySegment ep, boolean force, long maxWaitNanos) throws Throwable {
        MemorySegment param = force ? forceCloseParam : defaultParam;
        MemorySegment req = (MemorySegment) Ucp.epCloseNbx.invokeExact(ep, param);
        if (req.address() == 0 || Ucp.isError(req)) return;
        long deadline = System.nanoTime() + maxWaitNanos;
        while ((byte) Ucp.requestCheckStatus.invokeExact(req) == Ucp.UCS_INPROGRESS && System.nanoTime() - deadline < 0) {
            progress();
        }
        Ucp.requestFree.invokeExact(req); // if still closing, UCX releases it when done
    }

    MemorySegment rkeyUnpack(MemorySegment ep, byte[] packed) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment rkeyOut = a.allocate(ADDRESS);
            Ucp.check((byte) Ucp.epRkeyUnpack.invokeExact(ep, a.allocateFrom(JAVA_BYTE, packed), rkeyOut), "ucp_ep_rkey_unpack");
            return rkeyOut.get(ADDRESS, 0);
        }
    }

    void rkeyDestroy(MemorySegment rkey) throws Throwable {
        Ucp.rkeyDestroy.invokeExact(rkey);
    }
}
