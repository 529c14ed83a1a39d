package io.tandem.transfer.agent;

import io.tandem.transfer.TransferBackend;
import io.tandem.transfer.TransferContext;
import io.tandem.transfer.TransferException;
import io.tandem.transfer.control.PeerConnections;
import io.tandem.transfer.shm.ShmBackend;
import io.tandem.transfer.tcp.TcpBackend;

import java.lang.reflect.InvocationTargetException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Creates an agent's backends, in preference order. ucx and nixl are built separately and found by reflection: a
 * configured one that is missing or unusable fails the agent with the reason; {@code auto} just leaves it out.
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
            case "ucx", "nixl" -> backends.add(optional(configured, context, true).orElseThrow());
            default -> {
                backends.add(new ShmBackend(context, probeFile));
                optional("ucx", context, false).ifPresent(backends::add);
                backends.add(new TcpBackend(connections));
            }
        }
        return backends;
    }

    /** Whether shm is among the backends: then regions are file-backed (while there is room) so peers can map them. */
    static boolean needsFiles(String configured) {
        return configured.equals("shm") || configured.equals("auto");
    }

    private static Optional<TransferBackend> optional(String name, TransferContext context, boolean required) {
        String className = "io.tandem.transfer." + name + "." + (name.equals("ucx") ? "UcxBackend" : "NixlBackend");
        String reason;
        try {
            Class<?> c = Class.forName(className);
            @SuppressWarnings("unchecked")
            Optional<String> why = (Optional<String>) c.getMethod("unavailableReason").invoke(null);
            if (why.isEmpty()) return Optional.of((TransferBackend) c.getConstructor(TransferContext.class).newInstance(context));
            reason = why.get();
        } catch (ClassNotFoundException e) {
            reason = className + " is not on the classpath";
        } catch (InvocationTargetException e) {
            reason = String.valueOf(e.getCause());
        } catch (ReflectiveOperationException | RuntimeException e) {
            reason = e.toString();
        }
        if (required) throw new TransferException(name + " backend unavailable: " + reason);
        LOG.log(System.Logger.Level.INFO, name + " backend unavailable, auto goes without it: " + reason);
        return Optional.empty();
    }
}
