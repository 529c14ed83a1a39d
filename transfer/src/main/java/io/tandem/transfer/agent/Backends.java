package io.tandem.transfer.agent;

import io.tandem.transfer.TransferBackend;
import io.tandem.transfer.TransferContext;
import io.tandem.transfer.TransferException;
import io.tandem.transfer.control.PeerConnections;
import io.tandem.transfer.nixl.NixlBackend;
import io.tandem.transfer.shm.ShmBackend;
import io.tandem.transfer.tcp.TcpBackend;
import io.tandem.transfer.ucx.UcxBackend;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Creates an agent's backends, in preference order. ucx and nixl bind native libraries that may be missing here: a
 * configured one that is unavailable fails the agent with the reason (which says how to get it); {@code auto} leaves
 * ucx out then, and never uses nixl (it is chosen explicitly).
 */
final class Backends {
    private static final System.Logger LOG = System.getLogger(Backends.class.getName());

    private Backends() {
    }

    /** {@code probeFile}: where shm creates this agent's probe file. */
    static List<TransferBackend> create(TransferContext context, PeerConnections connections, Path probeFile) {
        String configured = context.config().backend();
        List<TransferBackend> backends = new ArrayList<>();
        switch (configured) {
            case "tcp" -> backends.add(new TcpBackend(connections));
            case "shm" -> backends.add(new ShmBackend(context, probeFile));
            case "ucx" -> backends.add(required(UcxBackend.NAME, UcxBackend.unavailableReason(), () -> new UcxBackend(context)));
            case "nixl" -> backends.add(required(NixlBackend.NAME, NixlBackend.unavailableReason(), () -> new NixlBackend(context)));
            default -> {
                backends.add(new ShmBackend(context, probeFile));
                Optional<String> ucx = UcxBackend.unavailableReason();
                if (ucx.isEmpty()) backends.add(new UcxBackend(context));
                else LOG.log(System.Logger.Level.INFO, "ucx backend unavailable, auto goes without it: " + ucx.get());
                backends.add(new TcpBackend(connections));
            }
        }
        return backends;
    }

    private static TransferBackend required(String name, Optional<String> unavailable, Supplier<TransferBackend> create) {
        if (unavailable.isPresent()) throw new TransferException(name + " backend unavailable: " + unavailable.get());
        return create.get();
    }

    /** Whether shm is among the backends: then regions are file-backed (while there is room) so peers can map them. */
    static boolean needsFiles(String configured) {
        return configured.equals("shm") || configured.equals("auto");
    }
}
