package io.tandem.transfer.ucx;

import io.tandem.transfer.TransferException;
import io.tandem.transfer.nativelib.UcpLibrary;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Hand-written bindings of the few UCP calls the backend needs, with the struct offsets and flags it sets, checked
 * with offsetof against the headers of UCX 1.13.1 (Debian's libucx0) and 1.22.0 (the UCX NIXL is built with): the
 * offsets used are the same in both (UCX appends fields, gated by {@code field_mask}), and structs are allocated at
 * the larger 1.22 sizes. Other versions are refused ({@link #layoutChecked}). {@code ucs_status_t} is a packed 1-byte
 * enum. The library is the process's one UCX ({@link UcpLibrary}), shared with NIXL.
 */
final class Ucp {
    static final int API_MAJOR = 1, API_MINOR = 13;

    // ucp_params_t (80 bytes in 1.13, 88 in 1.22)
    static final long PARAMS_SIZE = 88, PARAMS_FEATURES = 8, PARAMS_NAME = 72;
    static final long PARAM_FIELD_FEATURES = 1, PARAM_FIELD_NAME = 256;
    static final long FEATURE_RMA = 0x2, FEATURE_WAKEUP = 0x10;
    // ucp_worker_params_t (200 bytes)
    static final long WORKER_PARAMS_SIZE = 200, WORKER_PARAMS_THREAD_MODE = 8;
    static final long WORKER_PARAM_FIELD_THREAD_MODE = 1;
    static final int THREAD_MODE_SINGLE = 0;
    // ucp_ep_params_t (104 bytes): err_handler is a ucp_err_handler_t {cb, arg} at 24 (cb 24, arg 32)
    static final long EP_PARAMS_SIZE = 104, EP_PARAMS_ADDRESS = 8, EP_PARAMS_ERR_MODE = 16;
    static final long EP_PARAMS_ERR_HANDLER_CB = 24, EP_PARAMS_ERR_HANDLER_ARG = 32;
    static final long EP_PARAM_FIELD_REMOTE_ADDRESS = 1, EP_PARAM_FIELD_ERR_HANDLING_MODE = 2, EP_PARAM_FIELD_ERR_HANDLER = 4;
    static final int ERR_HANDLING_MODE_NONE = 0, ERR_HANDLING_MODE_PEER = 1;
    /** ucp_err_handler_cb_t: void (*)(void *arg, ucp_ep_h ep, ucs_status_t status). */
    static final FunctionDescriptor ERR_HANDLER = FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_BYTE);
    // ucp_mem_map_params_t (40 bytes in 1.13, 48 in 1.22)
    static final long MEM_MAP_PARAMS_SIZE = 48, MEM_MAP_ADDRESS = 8, MEM_MAP_LENGTH = 16, MEM_MAP_PROT = 28;
    static final long MEM_MAP_FIELD_ADDRESS = 1, MEM_MAP_FIELD_LENGTH = 2, MEM_MAP_FIELD_PROT = 8;
    static final int PROT_LOCAL_READ = 0x1, PROT_LOCAL_WRITE = 0x2, PROT_REMOTE_READ = 0x100, PROT_REMOTE_WRITE = 0x200;
    // ucp_request_param_t (72 bytes in 1.13, 96 in 1.22)
    static final long REQUEST_PARAM_SIZE = 96, REQUEST_PARAM_FLAGS = 4;
    static final int OP_ATTR_FIELD_FLAGS = 16;
    static final int EP_CLOSE_FLAG_FORCE = 1;

    static final byte UCS_OK = 0, UCS_INPROGRESS = 1, UCS_ERR_UNREACHABLE = -6, UCS_ERR_BUSY = -15;
    static final short POLLIN = 1;

    static final MethodHandle configRead, configModify, configRelease, initVersion, cleanup;
    static final MethodHandle workerCreate, workerDestroy, workerGetAddress, workerReleaseAddress, workerProgress;
    static final MethodHandle memMap, memUnmap, rkeyPack, rkeyBufferRelease;
    static final MethodHandle epCreate, epCloseNbx, epRkeyUnpack, rkeyDestroy;
    static final MethodHandle putNbx, getNbx, epFlushNbx, requestCheckStatus, requestFree, statusString;
    static final MethodHandle workerGetEfd, workerArm, workerSignal, poll;

    static {
        Linker linker = Linker.nativeLinker();
        UcpLibrary.Ucp library = UcpLibrary.get();
        UcpLayout.checked(library).ifPresent(why -> {
            throw new TransferException(why);
        });
        SymbolLookup ucp = library.ucp();
        SymbolLookup ucs = library.ucs();
        configRead = fn(linker, ucp, "ucp_config_read", JAVA_BYTE, ADDRESS, ADDRESS, ADDRESS);
        configModify = fn(linker, ucp, "ucp_config_modify", JAVA_BYTE, ADDRESS, ADDRESS, ADDRESS);
        configRelease = fn(linker, ucp, "ucp_config_release", null, ADDRESS);
        initVersion = fn(linker, ucp, "ucp_init_version", JAVA_BYTE, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        cleanup = fn(linker, ucp, "ucp_cleanup", null, ADDRESS);
        workerCreate = fn(linker, ucp, "ucp_worker_create", JAVA_BYTE, ADDRESS, ADDRESS, ADDRESS);
        workerDestroy = fn(linker, ucp, "ucp_worker_destroy", null, ADDRESS);
        workerGetAddress = fn(linker, ucp, "ucp_worker_get_address", JAVA_BYTE, ADDRESS, ADDRESS, ADDRESS);
        workerReleaseAddress = fn(linker, ucp, "ucp_worker_release_address", null, ADDRESS, ADDRESS);
        workerProgress = fn(linker, ucp, "ucp_worker_progress", JAVA_INT, ADDRESS);
        memMap = fn(linker, ucp, "ucp_mem_map", JAVA_BYTE, ADDRESS, ADDRESS, ADDRESS);
        memUnmap = fn(linker, ucp, "ucp_mem_unmap", JAVA_BYTE, ADDRESS, ADDRESS);
        rkeyPack = fn(linker, ucp, "ucp_rkey_pack", JAVA_BYTE, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        rkeyBufferRelease = fn(linker, ucp, "ucp_rkey_buffer_release", null, ADDRESS);
        epCreate = fn(linker, ucp, "ucp_ep_create", JAVA_BYTE, ADDRESS, ADDRESS, ADDRESS);
        epCloseNbx = fn(linker, ucp, "ucp_ep_close_nbx", ADDRESS, ADDRESS, ADDRESS);
        epRkeyUnpack = fn(linker, ucp, "ucp_ep_rkey_unpack", JAVA_BYTE, ADDRESS, ADDRESS, ADDRESS);
        rkeyDestroy = fn(linker, ucp, "ucp_rkey_destroy", null, ADDRESS);
        putNbx = fn(linker, ucp, "ucp_put_nbx", ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS);
        getNbx = fn(linker, ucp, "ucp_get_nbx", ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS);
        epFlushNbx = fn(linker, ucp, "ucp_ep_flush_nbx", ADDRESS, ADDRESS, ADDRESS);
        requestCheckStatus = fn(linker, ucp, "ucp_request_check_status", JAVA_BYTE, ADDRESS);
        requestFree = fn(linker, ucp, "ucp_request_free", null, ADDRESS);
        statusString = fn(linker, ucs, "ucs_status_string", ADDRESS, JAVA_BYTE);
        workerGetEfd = fn(linker, ucp, "ucp_worker_get_efd", JAVA_BYTE, ADDRESS, ADDRESS);
        workerArm = fn(linker, ucp, "ucp_worker_arm", JAVA_BYTE, ADDRESS);
        workerSignal = fn(linker, ucp, "ucp_worker_signal", JAVA_BYTE, ADDRESS);
        poll = fn(linker, linker.defaultLookup(), "poll", JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT);
    }

    private Ucp() {
    }

    private static MethodHandle fn(Linker linker, SymbolLookup lib, String name, java.lang.foreign.MemoryLayout ret,
                                   java.lang.foreign.MemoryLayout... args) {
        MemorySegment symbol = lib.find(name).orElseThrow(() -> new TransferException("libucp lacks " + name));
        FunctionDescriptor fd = ret == null ? FunctionDescriptor.ofVoid(args) : FunctionDescriptor.of(ret, args);
        return linker.downcallHandle(symbol, fd);
    }

    /** The UCX text of a status (e.g. "Connection reset by remote peer"). */
    static String describe(byte status) {
        try {
            MemorySegment s = (MemorySegment) statusString.invokeExact(status);
            return s.reinterpret(256).getString(0) + " (" + status + ")";
        } catch (Throwable t) {
            return "UCS status " + status;
        }
    }

    /** Throws a TransferException naming {@code what} unless {@code status} is UCS_OK. */
    static void check(byte status, String what) {
        if (status != UCS_OK) throw new TransferException(what + " failed: " + describe(status));
    }

    /** UCS_PTR_IS_ERR: status pointers carry errors as small negative values. */
    static boolean isError(MemorySegment statusPtr) {
        long v = statusPtr.address();
        return v < 0 && v >= -100;
    }

    static byte errorOf(MemorySegment statusPtr) {
        return (byte) statusPtr.address();
    }

    /** Wraps the Throwable that invokeExact declares; native calls here only fail by status. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new TransferException("native call failed: " + t, t);
    }
}
