package io.tandem.registry.cluster;

import io.netty.channel.DefaultSelectStrategyFactory;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.EpollIoHandler;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.impl.transports.EpollTransport;
import io.vertx.core.transport.Transport;

import java.util.Locale;

/**
 * The Netty transport under every Tandem Vert.x: Linux's native epoll where Netty's native library loads (the jars
 * carry it for x86_64 and aarch64), else the JDK's NIO selector. It matters because an event loop relays every
 * generated token and the engine thread wakes it for each one: on NIO the loop made about 6.7 system calls a token
 * (Netty 4.2's selector loop re-arms its own wake-up, so every wake is followed by a second, empty select), on epoll
 * about 2.4, and system calls are what a VM makes expensive. docs/BENCHMARKS.md has the measurement.
 *
 * <p>Tandem's epoll takes <b>one ready connection per wake-up</b> instead of Netty's up to 4096. An event loop runs
 * the I/O of every connection one wake-up returned, then the tasks that I/O posted; when a closed loop's clients send
 * their next requests together, every request's handler ran before the first request's hand-off to its worker and
 * the worker's accept, so each request waited for the whole burst. With one at a time, a request's handler and the
 * tasks it posts run before the next request is read. It costs one {@code epoll_wait} per ready connection.
 *
 * <p>{@link #builder} is how every Tandem Vert.x is built, so it also gives the event loops their
 * {@link EventLoopPriority}.
 */
public final class NetworkTransport {
    /** Ready connections an event loop takes per wake-up. */
    static final int READY_PER_WAKEUP = 1;
    private static final Transport EPOLL_ONE_AT_A_TIME = epollOneAtATime();

    private NetworkTransport() {
    }

    /** {@code options} asking for the native transport (Vert.x falls back to NIO by itself where it cannot load). */
    public static VertxOptions preferNative(VertxOptions options) {
        return options.setPreferNativeTransport(true);
    }

    /**
     * A builder for a Vert.x with {@code options} whose event loops run at {@code priority}: when the options
     * {@link #preferNative prefer the native transport} and that is epoll, on Tandem's epoll (one ready connection per
     * wake-up); else as Vert.x chooses.
     */
    public static VertxBuilder builder(VertxOptions options, EventLoopPriority priority) {
        VertxBuilder builder = Vertx.builder().with(options);
        Transport chosen = Transport.nativeTransport();
        if (options.getPreferNativeTransport() && EPOLL_ONE_AT_A_TIME != null && chosen != null
                && chosen.name().equals(EPOLL_ONE_AT_A_TIME.name())) {
            builder.withTransport(EPOLL_ONE_AT_A_TIME);
        }
        return priority.appliedBy(builder);
    }

    /** Vert.x's epoll, its Netty handler taking {@link #READY_PER_WAKEUP}; null where the classes fail to load. */
    private static Transport epollOneAtATime() {
        try {
            EpollTransport epoll = new EpollTransport() {
                @Override
                public IoHandlerFactory ioHandlerFactory() {
                    return EpollIoHandler.newFactory(READY_PER_WAKEUP, DefaultSelectStrategyFactory.INSTANCE);
                }
            };
            return new Transport() {
                @Override
                public String name() {
                    return "epoll";
                }

                @Override
                public boolean available() {
                    return epoll.isAvailable();
                }

                @Override
                public Throwable unavailabilityCause() {
                    return epoll.unavailabilityCause();
                }

                @Override
                public io.vertx.core.spi.transport.Transport implementation() {
                    return epoll;
                }
            };
        } catch (LinkageError | RuntimeException e) {
            return null; // no Netty epoll classes: Vert.x picks its own transport
        }
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
