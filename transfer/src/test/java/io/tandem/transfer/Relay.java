package io.tandem.transfer;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP relay in front of a real agent, so the handshake passes and the peer misbehaves afterwards: it can go silent
 * (stops forwarding, keeps the connection), cut every connection after some bytes towards the agent, or drop its
 * connections and lead new ones elsewhere.
 */
public final class Relay implements AutoCloseable {
    private final NetServer server;
    private final NetClient client;
    private final Set<NetSocket> sockets = ConcurrentHashMap.newKeySet();
    private final AtomicLong forwarded = new AtomicLong();
    private volatile boolean silent;
    private volatile long cutAfter = Long.MAX_VALUE;
    private volatile int target;

    private Relay(Vertx vertx, int targetPort) throws Exception {
        target = targetPort;
        client = vertx.createNetClient();
        server = vertx.createNetServer().connectHandler(in -> {
            in.pause();
            sockets.add(in);
            client.connect(target, "127.0.0.1").onSuccess(out -> {
                sockets.add(out);
                out.handler(buf -> {
                    if (!silent) in.write(buf);
                });
                in.handler(buf -> {
                    if (silent) return;
                    if (forwarded.addAndGet(buf.length()) > cutAfter) {
                        in.close();
                        out.close();
                    } else {
                        out.write(buf);
                    }
                });
                in.closeHandler(v -> out.close());
                out.closeHandler(v -> in.close());
                in.resume();
            }).onFailure(e -> in.close());
        });
        server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    public static Relay to(Vertx vertx, int targetPort) throws Exception {
        return new Relay(vertx, targetPort);
    }

    public int port() {
        return server.actualPort();
    }

    /** Bytes forwarded towards the agent. */
    public long forwarded() {
        return forwarded.get();
    }

    /** Closes every connection; new ones go to {@code port}. */
    public void retarget(int port) {
        target = port;
        for (NetSocket s : sockets) s.close();
    }

    /** From now on nothing is forwarded either way; connections stay open. */
    public void silence() {
        silent = true;
    }

    /** Closes both sides once more than {@code bytes} in total went towards the agent. */
    public void cutAfter(long bytes) {
        cutAfter = bytes;
    }

    @Override
    public void close() throws Exception {
        for (NetSocket s : sockets) s.close();
        server.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        client.close();
    }
}
