package io.tandem.transfer.control;

import io.netty.buffer.ByteBuf;
import io.tandem.protocol.auth.ClusterSecret;
import io.tandem.transfer.AgentIdentity;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The handshake's pure steps: who refuses what, and that no MAC can stand in for another. */
class HandshakeTest {
    private static final ClusterSecret SECRET = ClusterSecret.of("handshake-test-secret-0123456789");
    private static final AgentIdentity A = new AgentIdentity("wa", "member-a", 11), B = new AgentIdentity("wb", "member-b", 22);

    /** The frame's header, as the decoder hands it to the listener. */
    private static ByteBuf header(ByteBuf frame) {
        return frame.skipBytes(Frames.PREFIX);
    }

    private static String reason(Runnable r) {
        return assertThrows(ProtocolException.class, r::run).reason();
    }

    @Test
    void theRightSecretCompletesBothWays() {
        Handshake.Hello client = Handshake.Hello.of("a", A, SECRET, false), server = Handshake.Hello.of("b", B, SECRET, true);
        Handshake.Hello received = Handshake.readHello(SECRET, header(Handshake.hello(client)));
        assertEquals("a", received.agent());
        assertEquals(A, received.identity());
        Handshake.Hello challenge = Handshake.Hello.decode(header(Handshake.challenge(server)));
        Handshake.checkServer(challenge, "b", B, client);
        assertTrue(challenge.requireFences());
        ByteBuf proof = Handshake.verifyAuth(SECRET, received, server, header(Handshake.auth(SECRET, client, challenge)));
        Handshake.verifyProof(SECRET, client, challenge, header(proof));
    }

    @Test
    void aWrongSecretFailsTheChallengeAndAFakeServerCannotProveOne() {
        ClusterSecret other = ClusterSecret.of("another-secret-of-enough-length");
        Handshake.Hello client = Handshake.Hello.of("a", A, other, false), server = Handshake.Hello.of("b", B, SECRET, false);
        assertEquals("bad_mac", reason(() -> Handshake.verifyAuth(SECRET, client, server, header(Handshake.auth(other, client, server)))));
        // a server that does not know the secret answers with a proof made with another one
        ByteBuf forged = header(Handshake.verifyAuth(other, client, server, header(Handshake.auth(other, client, server))));
        assertEquals("bad_proof", reason(() -> Handshake.verifyProof(SECRET, client, server, forged)));
    }

    @Test
    void theClientsMacIsNoProofOfTheServerAndIsBoundToTheNonces() {
        Handshake.Hello client = Handshake.Hello.of("a", A, SECRET, false), server = Handshake.Hello.of("b", B, SECRET, false);
        ByteBuf clientMac = header(Handshake.auth(SECRET, client, server));
        assertEquals("bad_proof", reason(() -> Handshake.verifyProof(SECRET, client, server, clientMac)), "reflected");
        Handshake.Hello freshServer = Handshake.Hello.of("b", B, SECRET, false); // a new connection: a new nonce
        ByteBuf replayed = header(Handshake.auth(SECRET, client, server));
        assertEquals("bad_mac", reason(() -> Handshake.verifyAuth(SECRET, client, freshServer, replayed)), "replayed");
        Handshake.Hello tampered = new Handshake.Hello(server.version(), server.nonce(), server.agent(), server.identity(), true, true);
        ByteBuf macOverOriginal = header(Handshake.auth(SECRET, client, server));
        assertEquals("bad_mac", reason(() -> Handshake.verifyAuth(SECRET, client, tampered, macOverOriginal)), "flags are covered");
    }

    @Test
    void exactlyOneSideWithASecretIsRefusedEitherWay() {
        assertEquals("no_secret", reason(() -> Handshake.readHello(SECRET, header(Handshake.hello(Handshake.Hello.of("a", A, null, false))))));
        assertEquals("unexpected_secret", reason(() -> Handshake.readHello(null, header(Handshake.hello(Handshake.Hello.of("a", A, SECRET, false))))));
        Handshake.Hello client = Handshake.Hello.of("a", A, SECRET, false), open = Handshake.Hello.of("b", B, null, false);
        ByteBuf noMac = header(Handshake.verifyAuth(null, client, open, header(Handshake.auth(null, client, open))));
        assertEquals("bad_proof", reason(() -> Handshake.verifyProof(SECRET, client, open, noMac)));
    }

    @Test
    void withoutSecretsIdentitiesAreStillChecked() {
        Handshake.Hello client = Handshake.Hello.of("a", A, null, false);
        Handshake.Hello server = Handshake.Hello.of("b", B, null, false);
        Handshake.checkServer(server, "b", B, client);
        ProtocolException stale = assertThrows(ProtocolException.class,
                () -> Handshake.checkServer(server, "b", new AgentIdentity("wb", "member-b", 23), client));
        assertEquals("identity_mismatch", stale.reason());
        assertTrue(stale.getMessage().startsWith("reached agent b epoch 16"), stale.getMessage());
        assertTrue(stale.getMessage().contains("expected agent b epoch 17"), stale.getMessage());
        assertEquals("identity_mismatch", reason(() -> Handshake.checkServer(server, "c", B, client)));
        ProtocolException self = assertThrows(ProtocolException.class,
                () -> Handshake.checkServer(Handshake.Hello.of("a", A, null, false), "b", B, client));
        assertTrue(self.getMessage().contains("this agent itself"), self.getMessage());
    }

    @Test
    void garbageIsMalformed() {
        ByteBuf junk = io.netty.buffer.Unpooled.wrappedBuffer(new byte[] {1, 2, 3});
        assertEquals("malformed", reason(() -> Handshake.readHello(SECRET, junk)));
    }
}
