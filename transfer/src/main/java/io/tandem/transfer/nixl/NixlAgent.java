package io.tandem.transfer.nixl;

import io.tandem.transfer.TransferException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import static io.tandem.transfer.nixl.NixlApi.check;
import static io.tandem.transfer.nixl.NixlApi.rethrow;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One NIXL agent with its UCX backend, as Java calls. The agent is created with {@code NIXL_THREAD_SYNC_RW} (NIXL
 * locks its own state, so any thread may call in; UCX then runs its workers multi-threaded) and with NIXL's progress
 * thread, which progresses UCX even when no call is made: the memory owner's side of a transfer moves without Tandem
 * polling it. Calls after {@link #close} fail; close waits for calls in progress.
 */
final class NixlAgent implements AutoCloseable {
    /** How often NIXL's progress thread wakes without an event (0 would make it spin a core). */
    static final long PROGRESS_DELAY_MICROS = 1_000;
    private static final String PLUGIN = "UCX";

    /** A notification NIXL delivered: the sending NIXL agent's name and the message. */
    record Notif(String from, byte[] message) {
    }

    private final NixlApi api;
    private final String name;
    private final MemorySegment agent;
    private final MemorySegment backend;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    private NixlAgent(NixlApi api, String name, MemorySegment agent, MemorySegment backend) {
        this.api = api;
        this.name = name;
        this.agent = agent;
        this.backend = backend;
    }

    /** Creates the agent and its UCX backend (with the plugin's default parameters). */
    static NixlAgent create(NixlApi api, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment config = a.allocate(NixlApi.AGENT_CONFIG);
            NixlApi.CONFIG_PROG_THREAD.set(config, 0L, true);
            NixlApi.CONFIG_THREAD_SYNC.set(config, 0L, NixlApi.THREAD_SYNC_RW);
            NixlApi.CONFIG_NUM_WORKERS.set(config, 0L, 1);
            NixlApi.CONFIG_PTHR_DELAY.set(config, 0L, PROGRESS_DELAY_MICROS);
            NixlApi.CONFIG_LTHR_DELAY.set(config, 0L, 100_000L);
            MemorySegment out = a.allocate(ADDRESS);
            check((int) api.createConfiguredAgent.invokeExact(a.allocateFrom(name), config, out), "nixl_capi_create_configured_agent");
            MemorySegment agent = out.get(ADDRESS, 0);
            try {
                MemorySegment mems = a.allocate(ADDRESS), params = a.allocate(ADDRESS);
                MemorySegment plugin = a.allocateFrom(PLUGIN);
                check((int) api.getPluginParams.invokeExact(agent, plugin, mems, params), "nixl_capi_get_plugin_params(UCX)"
                        + " (is NIXL's UCX plugin, libplugin_UCX.so, in NIXL_PLUGIN_DIR?)");
                try {
                    check((int) api.createBackend.invokeExact(agent, plugin, params.get(ADDRESS, 0), out), "nixl_capi_create_backend(UCX)");
                } finally {
                    int ignored = (int) api.destroyMemList.invokeExact(mems.get(ADDRESS, 0));
                    ignored = (int) api.destroyParams.invokeExact(params.get(ADDRESS, 0));
                }
                return new NixlAgent(api, name, agent, out.get(ADDRESS, 0));
            } catch (Throwable t) {
                int ignored = (int) api.destroyAgent.invokeExact(agent);
                throw t;
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    String name() {
        return name;
    }

    /** Registers host memory with NIXL (UCX maps it). */
    void register(MemorySegment memory) {
        registration(memory, true);
    }

    /** Undoes {@link #register}. */
    void deregister(MemorySegment memory) {
        registration(memory, false);
    }

    private void registration(MemorySegment memory, boolean register) {
        call(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ADDRESS);
                check((int) api.createRegDlist.invokeExact(NixlApi.MEM_DRAM, out), "nixl_capi_create_reg_dlist");
                MemorySegment dlist = out.get(ADDRESS, 0);
                try {
                    check((int) api.regDlistAddDesc.invokeExact(dlist, memory.address(), memory.byteSize(), 0L, MemorySegment.NULL, 0L),
                            "nixl_capi_reg_dlist_add_desc");
                    int status = register ? (int) api.registerMem.invokeExact(agent, dlist, MemorySegment.NULL)
                            : (int) api.deregisterMem.invokeExact(agent, dlist, MemorySegment.NULL);
                    check(status, register ? "nixl_capi_register_mem" : "nixl_capi_deregister_mem");
                } finally {
                    int ignored = (int) api.destroyRegDlist.invokeExact(dlist);
                }
            }
            return null;
        });
    }

    /** The agent's metadata (its name, UCX address, registered memory and rkeys) for peers to load. */
    byte[] localMetadata() {
        return call(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment data = a.allocate(ADDRESS), length = a.allocate(JAVA_LONG);
                check((int) api.getLocalMd.invokeExact(agent, data, length), "nixl_capi_get_local_md");
                MemorySegment blob = data.get(ADDRESS, 0).reinterpret(length.get(JAVA_LONG, 0));
                try {
                    return blob.toArray(JAVA_BYTE);
                } finally {
                    api.free.invokeExact(blob);
                }
            }
        });
    }

    /** Loads (or updates) a peer's metadata; returns the peer's NIXL agent name. */
    String loadRemote(byte[] metadata) {
        return call(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment blob = a.allocateFrom(JAVA_BYTE, metadata), out = a.allocate(ADDRESS);
                check((int) api.loadRemoteMd.invokeExact(agent, blob, (long) metadata.length, out), "nixl_capi_load_remote_md");
                MemorySegment remote = out.get(ADDRESS, 0);
                try {
                    return remote.reinterpret(4096).getString(0);
                } finally {
                    api.free.invokeExact(remote);
                }
            }
        });
    }

    /** Connects to a loaded peer now rather than at its first transfer. */
    void connect(String remote) {
        call(() -> {
            try (Arena a = Arena.ofConfined()) {
                check((int) api.makeConnection.invokeExact(agent, a.allocateFrom(remote), MemorySegment.NULL),
                        "nixl_capi_agent_make_connection(" + remote + ")");
            }
            return null;
        });
    }

    /** Drops a peer's metadata and connection; its transfers in flight fail. */
    void invalidateRemote(String remote) {
        call(() -> {
            try (Arena a = Arena.ofConfined()) {
                check((int) api.invalidateRemoteMd.invokeExact(agent, a.allocateFrom(remote)), "nixl_capi_invalidate_remote_md(" + remote + ")");
            }
            return null;
        });
    }

    /**
     * Creates and posts a transfer of {@code lengths[i]} bytes between local {@code localAddresses[i]} and the peer's
     * {@code remoteAddresses[i]} (both registered), with a notification for the peer. Returns the request, which must
     * be {@link #release}d; {@code posted[0]} gets post's status (success or in progress).
     */
    MemorySegment post(boolean write, long[] localAddresses, long[] remoteAddresses, long[] lengths, String remote,
                       byte[] notification, int[] posted) {
        return call(() -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ADDRESS);
                MemorySegment local = dlist(localAddresses, lengths, out);
                MemorySegment peer = MemorySegment.NULL, options = MemorySegment.NULL;
                try {
                    peer = dlist(remoteAddresses, lengths, out);
                    check((int) api.createOptArgs.invokeExact(out), "nixl_capi_create_opt_args");
                    options = out.get(ADDRESS, 0);
                    check((int) api.optArgsAddBackend.invokeExact(options, backend), "nixl_capi_opt_args_add_backend");
                    if (notification != null) {
                        check((int) api.optArgsSetNotifMsg.invokeExact(options, a.allocateFrom(JAVA_BYTE, notification),
                                (long) notification.length), "nixl_capi_opt_args_set_notif_msg");
                        check((int) api.optArgsSetHasNotif.invokeExact(options, true), "nixl_capi_opt_args_set_has_notif");
                    }
                    check((int) api.createXferReq.invokeExact(agent, write ? NixlApi.XFER_WRITE : NixlApi.XFER_READ, local, peer,
                            a.allocateFrom(remote), out, options), "nixl_capi_create_xfer_req");
                    MemorySegment request = out.get(ADDRESS, 0);
                    int status = (int) api.postXferReq.invokeExact(agent, request, options);
                    if (status != NixlApi.SUCCESS && status != NixlApi.IN_PROG) {
                        releaseLocked(request);
                        check(status, "nixl_capi_post_xfer_req");
                    }
                    posted[0] = status;
                    return request;
                } finally {
                    if (!options.equals(MemorySegment.NULL)) {
                        int ignored = (int) api.destroyOptArgs.invokeExact(options);
                    }
                    if (!peer.equals(MemorySegment.NULL)) {
                        int ignored = (int) api.destroyXferDlist.invokeExact(peer);
                    }
                    int ignored = (int) api.destroyXferDlist.invokeExact(local);
                }
            }
        });
    }

    private MemorySegment dlist(long[] addresses, long[] lengths, MemorySegment out) throws Throwable {
        check((int) api.createXferDlist.invokeExact(NixlApi.MEM_DRAM, out), "nixl_capi_create_xfer_dlist");
        MemorySegment dlist = out.get(ADDRESS, 0);
        try {
            for (int i = 0; i < addresses.length; i++) {
                check((int) api.xferDlistAddDesc.invokeExact(dlist, addresses[i], lengths[i], 0L), "nixl_capi_xfer_dlist_add_desc");
            }
            return dlist;
        } catch (Throwable t) {
            int ignored = (int) api.destroyXferDlist.invokeExact(dlist);
            throw t;
        }
    }

    /** The request's status: success, in progress, or an error. (Once its data is in place it sends the notification.) */
    int status(MemorySegment request) {
        return call(() -> (int) api.getXferStatus.invokeExact(agent, request));
    }

    /** Releases a request (cancelling it if still in flight) and frees its handle. */
    void release(MemorySegment request) {
        call(() -> {
            releaseLocked(request);
            return null;
        });
    }

    private void releaseLocked(MemorySegment request) throws Throwable {
        int status = (int) api.releaseXferReq.invokeExact(agent, request);
        if (status == NixlApi.SUCCESS) {
            int ignored = (int) api.destroyXferReq.invokeExact(request);
        }
        // a request NIXL refused to release stays allocated: leaking one handle beats freeing memory UCX may still use
    }

    /** Takes every notification NIXL received since the last call (NIXL keeps them until taken). */
    List<Notif> takeNotifications() {
        return call(() -> {
            List<Notif> got = new ArrayList<>();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment out = a.allocate(ADDRESS), size = a.allocate(JAVA_LONG), data = a.allocate(ADDRESS);
                check((int) api.createNotifMap.invokeExact(out), "nixl_capi_create_notif_map");
                MemorySegment map = out.get(ADDRESS, 0);
                try {
                    check((int) api.getNotifs.invokeExact(agent, map, MemorySegment.NULL), "nixl_capi_get_notifs");
                    check((int) api.notifMapSize.invokeExact(map, size), "nixl_capi_notif_map_size");
                    long agents = size.get(JAVA_LONG, 0);
                    for (long i = 0; i < agents; i++) {
                        check((int) api.notifMapGetAgentAt.invokeExact(map, i, out), "nixl_capi_notif_map_get_agent_at");
                        MemorySegment from = out.get(ADDRESS, 0);
                        String sender = from.reinterpret(4096).getString(0);
                        check((int) api.notifMapGetNotifsSize.invokeExact(map, from, size), "nixl_capi_notif_map_get_notifs_size");
                        long count = size.get(JAVA_LONG, 0);
                        for (long j = 0; j < count; j++) {
                            check((int) api.notifMapGetNotif.invokeExact(map, from, j, data, size), "nixl_capi_notif_map_get_notif");
                            byte[] message = data.get(ADDRESS, 0).reinterpret(size.get(JAVA_LONG, 0)).toArray(JAVA_BYTE);
                            got.add(new Notif(sender, message));
                        }
                    }
                } finally {
                    int ignored = (int) api.destroyNotifMap.invokeExact(map);
                }
            }
            return got;
        });
    }

    /** Destroys the backend and the agent (NIXL drops registrations and connections with it), after calls in progress. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) return;
            closed = true;
            int ignored = (int) api.destroyBackend.invokeExact(backend);
            ignored = (int) api.destroyAgent.invokeExact(agent);
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    private interface NativeCall<T> {
        T run() throws Throwable;
    }

    private <T> T call(NativeCall<T> c) {
        lifecycle.readLock().lock();
        try {
            if (closed) throw new TransferException("NIXL agent " + name + " is closed");
            return c.run();
        } catch (Throwable t) {
            throw rethrow(t);
        } finally {
            lifecycle.readLock().unlock();
        }
    }
}
