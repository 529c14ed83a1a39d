package io.tandem.gateway.session;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Request ids: a prefix ({@code chatcmpl-}, {@code cmpl-}, ...) and 128 random bits in hex. An id names its stream's
 * address on the event bus, so it must not repeat across the gateways of a cluster nor be guessable. Each thread has
 * its own DRBG, seeded once: {@code UUID.randomUUID()} took a lock and read {@code /dev/urandom} on the event loop, a
 * system call every few requests.
 */
public final class RequestIds {
    private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(RequestIds::drbg);
    private static final HexFormat HEX = HexFormat.of();

    private RequestIds() {
    }

    /** {@code prefix} and 32 hex digits. */
    public static String next(String prefix) {
        byte[] bits = new byte[16];
        RANDOM.get().nextBytes(bits);
        return prefix + HEX.formatHex(bits);
    }

    private static SecureRandom drbg() {
        try {
            return SecureRandom.getInstance("DRBG");
        } catch (NoSuchAlgorithmException e) { // every JDK since 9 has it; a provider list without it gets the default
            return new SecureRandom();
        }
    }
}
