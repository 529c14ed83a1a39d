package io.tandem.registry.cluster;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.transport.Transport;

import java.util.Locale;

/**
 * The Netty transport under every Tandem Vert.x: Linux's native epoll where Netty's native library loads (the jars
 * carry it for x86_64 and aarch64), else the JDK's NIO selector. It matters because an event loop relays every
 * generated token and the engine thread wakes it for each one: on NIO the loop made about 6.7 system calls a token
 * (Netty 4.2's selector loop re-arms its own wake-up, so every wake is followed by a second, empty select), on epoll
 * about 2.4, and system calls are what a VM makes expensive. docs/BENCHMARKS.md has the measurement.
 */
public final class NetworkTransport {
    private NetworkTransport() {
    }

    /** {@code options} asking for the native transport (Vert.x falls back to NIO by itself where it cannot load). */
    public static VertxOptions preferNative(VertxOptions options) {
        return options.setPreferNativeTransport(true);
    }

    /** For the startup log: {@code epoll}, or {@code nio (why the native transport is unavailable)}. */
    public static String describe(Vertx vertx) {
        if (vertx.isNativeTransportEnabled()) {
            Transport t = Transport.nativeTransport();
            return t == null ? "native" : t.name().toLowerCase(Locale.ROOT);
        }
        Throwable cause = vertx.unavailableNativeTransportCause();
        String why = cause == null ? "native transport not requested" : "native transport unavailable: " + cause;
        return "nio (" + why + ")";
    }
}
