package io.tandem.registry.cluster;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdvertisedHostTest {
    private static final InetAddress LAN = address("10.1.2.3");
    private static final InetAddress LOOPBACK = address("127.0.0.1");

    @Test
    void theFlagWinsThenTheClusterHostThenHazelcast() {
        assertEquals(new AdvertisedHost.Choice("10.9.9.9", AdvertisedHost.Source.ADVERTISE_HOST),
                AdvertisedHost.resolve("10.9.9.9", "10.8.8.8", LAN));
        assertEquals(new AdvertisedHost.Choice("10.8.8.8", AdvertisedHost.Source.CLUSTER_HOST),
                AdvertisedHost.resolve(null, "10.8.8.8", LAN));
        assertEquals(new AdvertisedHost.Choice("10.1.2.3", AdvertisedHost.Source.HAZELCAST),
                AdvertisedHost.resolve(" ", null, LAN));
    }

    @Test
    void aWildcardIsNeverAdvertised() {
        var e = assertThrows(IllegalArgumentException.class, () -> AdvertisedHost.resolve("0.0.0.0", null, LAN));
        assertTrue(e.getMessage().startsWith("--advertise-host is 0.0.0.0, a wildcard"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AdvertisedHost.resolve(null, "0.0.0.0", LOOPBACK));
        assertTrue(e.getMessage().startsWith("-cluster-host is 0.0.0.0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AdvertisedHost.resolve("::", null, null));
    }

    @Test
    void loopbackOnlyWhenTheClusterIsOnLoopback() {
        assertEquals("127.0.0.1", AdvertisedHost.resolve("127.0.0.1", null, LOOPBACK).host());
        assertEquals("127.0.0.1", AdvertisedHost.resolve(null, null, null).host(), "not clustered: loopback");
        var e = assertThrows(IllegalArgumentException.class, () -> AdvertisedHost.resolve("localhost", null, LAN));
        assertTrue(e.getMessage().contains("loopback") && e.getMessage().contains("10.1.2.3"), e.getMessage());
    }

    @Test
    void anUnresolvableNameIsTakenAsGiven() {
        assertEquals("decode.invalid", AdvertisedHost.resolve("decode.invalid", null, LAN).host());
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void wildcardLiteralsAreRecognisedWithoutALookup() {
        assertTrue(AdvertisedHost.isWildcard("0.0.0.0"));
        assertTrue(AdvertisedHost.isWildcard("::"));
        assertEquals(false, AdvertisedHost.isWildcard("127.0.0.1"));
        assertEquals(false, AdvertisedHost.isWildcard("decode"), "a name is not looked up");
    }
}
