package io.tandem.transfer.nixl;

import io.tandem.transfer.TransferException;
import io.tandem.transfer.nativelib.NixlHome;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Hand-written FFM bindings of the part of NIXL's C API ({@code libnixl_capi.so}, declared in {@code nixl_capi.h})
 * the backend uses. Every function returns a {@code nixl_capi_status_t}: 0 success, 1 in progress, negative an error
 * (the C API folds NIXL's own codes into {@code NIXL_CAPI_ERROR_BACKEND}; NIXL logs the cause on stderr). Handles are
 * opaque pointers; memory NIXL returns ({@code get_local_md}'s blob, {@code load_remote_md}'s name) is libc's to free.
 */
final class NixlApi {
    static final int SUCCESS = 0, IN_PROG = 1;
    static final int MEM_DRAM = 0;
    static final int XFER_READ = 0, XFER_WRITE = 1;
    static final int THREAD_SYNC_RW = 2;

    /** nixl_capi_agent_config_t (40 bytes). */
    static final StructLayout AGENT_CONFIG = MemoryLayout.structLayout(
            JAVA_BOOLEAN.withName("enable_prog_thread"), JAVA_BOOLEAN.withName("enable_listen_thread"),
            MemoryLayout.paddingLayout(2), JAVA_INT.withName("listen_port"), JAVA_INT.withName("thread_sync"),
            JAVA_INT.withName("num_workers"), JAVA_LONG.withName("pthr_delay_us"), JAVA_LONG.withName("lthr_delay_us"),
            JAVA_BOOLEAN.withName("capture_telemetry"), MemoryLayout.paddingLayout(7));
    static final VarHandle CONFIG_PROG_THREAD = field("enable_prog_thread"), CONFIG_THREAD_SYNC = field("thread_sync"),
            CONFIG_NUM_WORKERS = field("num_workers"), CONFIG_PTHR_DELAY = field("pthr_delay_us"),
            CONFIG_LTHR_DELAY = field("lthr_delay_us");

    final MethodHandle createConfiguredAgent, destroyAgent, getPluginParams, destroyMemList, destroyParams;
    final MethodHandle createBackend, destroyBackend;
    final MethodHandle createOptArgs, destroyOptArgs, optArgsAddBackend, optArgsSetNotifMsg, optArgsSetHasNotif;
    final MethodHandle createRegDlist, regDlistAddDesc, destroyRegDlist, registerMem, deregisterMem;
    final MethodHandle getLocalMd, loadRemoteMd, invalidateRemoteMd, makeConnection;
    final MethodHandle createXferDlist, xferDlistAddDesc, destroyXferDlist;
    final MethodHandle createXferReq, postXferReq, getXferStatus, releaseXferReq, destroyXferReq;
    final MethodHandle createNotifMap, destroyNotifMap, getNotifs, notifMapSize, notifMapGetAgentAt, notifMapGetNotifsSize,
            notifMapGetNotif;
    final MethodHandle free;

    NixlApi(SymbolLookup capi) {
        Linker linker = Linker.nativeLinker();
        Binder b = new Binder(linker, capi);
        createConfiguredAgent = b.status("nixl_capi_create_configured_agent", ADDRESS, ADDRESS, ADDRESS);
        destroyAgent = b.status("nixl_capi_destroy_agent", ADDRESS);
        getPluginParams = b.status("nixl_capi_get_plugin_params", ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        destroyMemList = b.status("nixl_capi_destroy_mem_list", ADDRESS);
        destroyParams = b.status("nixl_capi_destroy_params", ADDRESS);
        createBackend = b.status("nixl_capi_create_backend", ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        destroyBackend = b.status("nixl_capi_destroy_backend", ADDRESS);
        createOptArgs = b.status("nixl_capi_create_opt_args", ADDRESS);
        destroyOptArgs = b.status("nixl_capi_destroy_opt_args", ADDRESS);
        optArgsAddBackend = b.status("nixl_capi_opt_args_add_backend", ADDRESS, ADDRESS);
        optArgsSetNotifMsg = b.status("nixl_capi_opt_args_set_notif_msg", ADDRESS, ADDRESS, JAVA_LONG);
        optArgsSetHasNotif = b.status("nixl_capi_opt_args_set_has_notif", ADDRESS, JAVA_BOOLEAN);
        createRegDlist = b.status("nixl_capi_create_reg_dlist", JAVA_INT, ADDRESS);
        regDlistAddDesc = b.status("nixl_capi_reg_dlist_add_desc", ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG);
        destroyRegDlist = b.status("nixl_capi_destroy_reg_dlist", ADDRESS);
        registerMem = b.status("nixl_capi_register_mem", ADDRESS, ADDRESS, ADDRESS);
        deregisterMem = b.status("nixl_capi_deregister_mem", ADDRESS, ADDRESS, ADDRESS);
        getLocalMd = b.status("nixl_capi_get_local_md", ADDRESS, ADDRESS, ADDRESS);
        loadRemoteMd = b.status("nixl_capi_load_remote_md", ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);
        invalidateRemoteMd = b.status("nixl_capi_invalidate_remote_md", ADDRESS, ADDRESS);
        makeConnection = b.status("nixl_capi_agent_make_connection", ADDRESS, ADDRESS, ADDRESS);
        createXferDlist = b.status("nixl_capi_create_xfer_dlist", JAVA_INT, ADDRESS);
        xferDlistAddDesc = b.status("nixl_capi_xfer_dlist_add_desc", ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        destroyXferDlist = b.status("nixl_capi_destroy_xfer_dlist", ADDRESS);
        createXferReq = b.status("nixl_capi_create_xfer_req", ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        postXferReq = b.status("nixl_capi_post_xfer_req", ADDRESS, ADDRESS, ADDRESS);
        getXferStatus = b.status("nixl_capi_get_xfer_status", ADDRESS, ADDRESS);
        releaseXferReq = b.status("nixl_capi_release_xfer_req", ADDRESS, ADDRESS);
        destroyXferReq = b.status("nixl_capi_destroy_xfer_req", ADDRESS);
        createNotifMap = b.status("nixl_capi_create_notif_map", ADDRESS);
        destroyNotifMap = b.status("nixl_capi_destroy_notif_map", ADDRESS);
        getNotifs = b.status("nixl_capi_get_notifs", ADDRESS, ADDRESS, ADDRESS);
        notifMapSize = b.status("nixl_capi_notif_map_size", ADDRESS, ADDRESS);
        notifMapGetAgentAt = b.status("nixl_capi_notif_map_get_agent_at", ADDRESS, JAVA_LONG, ADDRESS);
        notifMapGetNotifsSize = b.status("nixl_capi_notif_map_get_notifs_size", ADDRESS, ADDRESS, ADDRESS);
        notifMapGetNotif = b.status("nixl_capi_notif_map_get_notif", ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS);
        free = linker.downcallHandle(linker.defaultLookup().findOrThrow("free"), FunctionDescriptor.ofVoid(ADDRESS));
    }

    private record Binder(Linker linker, SymbolLookup lib) {
        MethodHandle status(String name, MemoryLayout... args) {
            MemorySegment symbol = lib.find(name).orElseThrow(() -> new IllegalStateException(
                    NixlHome.CAPI_LIBRARY + " lacks " + name + " (a NIXL older than 1.4?)"));
            return linker.downcallHandle(symbol, FunctionDescriptor.of(JAVA_INT, args));
        }
    }

    private static VarHandle field(String name) {
        return AGENT_CONFIG.varHandle(groupElement(name));
    }

    /** The C API's name for a status. */
    static String describe(int status) {
        return switch (status) {
            case 0 -> "NIXL_CAPI_SUCCESS";
            case 1 -> "NIXL_CAPI_IN_PROG";
            case -1 -> "NIXL_CAPI_ERROR_INVALID_PARAM";
            case -2 -> "NIXL_CAPI_ERROR_BACKEND";
            case -3 -> "NIXL_CAPI_ERROR_INVALID_STATE";
            case -4 -> "NIXL_CAPI_ERROR_EXCEPTION";
            case -5 -> "NIXL_CAPI_ERROR_NO_TELEMETRY";
            default -> "NIXL C API status " + status;
        } + " (" + status + ")";
    }

    /** Throws a TransferException naming {@code what} unless {@code status} is success. */
    static void check(int status, String what) {
        if (status != SUCCESS) throw new TransferException(what + " failed: " + describe(status));
    }

    /** Wraps what invokeExact declares; the C API fails only by status. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new TransferException("NIXL call failed: " + t, t);
    }
}
