package io.tandem.transfer.control;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.protocol.auth.ClusterSecret;
import io.tandem.transfer.AgentIdentity;

import java.nio.charset.StandardCharsets;

/**
 * The control connection's handshake, as pure functions (the connections drive it). Mutual HMAC challenge-response;
 * the secret never crosses the wire:
 * <ol>
 *   <li>connecting side → HELLO: its {@link Hello} (version, fresh nonce, agent name, identity, whether it has a
 *       secret);</li>
 *   <li>accepting side → CHALLENGE: its own Hello (fresh nonce, name, identity, whether it has a secret, whether it
 *       requires fences), or REFUSED when exactly one side has a secret;</li>
 *   <li>connecting side, once it checked that the agent reached is the one expected → AUTH:
 *       {@code HMAC(secret, CLIENT, clientHello, serverHello)};</li>
 *   <li>accepting side → PROOF: {@code HMAC(secret, SERVER, clientHello, serverHello)}, or REFUSED and close.</li>
 * </ol>
 * Both MACs cover both Hellos whole (nonces, names, identities, flags), each under its own purpose, so neither can be
 * replayed as the other or on another connection. Without a secret on both sides the Hellos are still exchanged (no
 * MACs), so identities are checked all the same. The connecting side speaks first: its socket may deliver data before
 * its handler is installed, the accepting side's cannot.
 */
public final class Handshake {
    public static final byte VERSION = 1;
    /** No handshake frame may have a longer header. */
    public static final int MAX_HEADER = 4096;
    static final String CLIENT = "tandem-transfer/handshake/client/v1";
    static final String SERVER = "tandem-transfer/handshake/server/v1";
    private static final int NONCE = 32;
    private static final int MAX_STRING = 1024;

    private Handshake() {
    }

    /** What one side says about itself. */
    public record Hello(byte version, byte[] nonce, String agent, AgentIdentity identity, boolean hasSecret,
                        boolean requireFences) {

        public static Hello of(String agent, AgentIdentity identity, ClusterSecret secret, boolean requireFences) {
            return new Hello(VERSION, ClusterSecret.nonce(), agent, identity, secret != null, requireFences);
        }

        public byte[] encode() {
            ByteBuf b = Unpooled.buffer(128);
            b.writeByte(version).writeBytes(nonce);
            string(b, agent);
            string(b, identity.workerId());
            b.writeBoolean(identity.memberId() != null);
            if (identity.memberId() != null) string(b, identity.memberId());
            b.writeLong(identity.epoch()).writeBoolean(hasSecret).writeBoolean(requireFences);
            byte[] out = new byte[b.readableBytes()];
            b.readBytes(out);
            return out;
        }

        static Hello decode(ByteBuf b) {
            try {
                byte version = b.readByte();
                if (version != VERSION) {
                    throw new ProtocolException("malformed", "control protocol version " + version + ", this agent speaks " + VERSION);
                }
                byte[] nonce = new byte[NONCE];
                b.readBytes(nonce);
                String agent = string(b), worker = string(b);
                String member = b.readBoolean() ? string(b) : null;
                long epoch = b.readLong();
                return new Hello(version, nonce, agent, new AgentIdentity(worker, member, epoch), b.readBoolean(), b.readBoolean());
            } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
                throw new ProtocolException("malformed", "malformed handshake: " + e.getMessage());
            }
        }

        /** For messages: {@code agent X epoch E}. */
        public String describe() {
            return "agent " + agent + " epoch " + Long.toUnsignedString(identity.epoch(), 16);
        }
    }

    /** The connecting side's opening frame. */
    public static ByteBuf hello(Hello client) {
        return Frames.of(Frames.HELLO, client.encode());
    }

    /**
     * The accepting side reads the client's HELLO: returns it, or throws a {@link ProtocolException} (refusal reason
     * {@code malformed}, {@code no_secret}, {@code unexpected_secret}).
     */
    public static Hello readHello(ClusterSecret secret, ByteBuf helloHeader) {
        Hello client = Hello.decode(helloHeader);
        if (secret != null && !client.hasSecret()) {
            throw new ProtocolException("no_secret", client.describe() + " has no cluster secret; this agent requires one");
        }
        if (secret == null && client.hasSecret()) {
            throw new ProtocolException("unexpected_secret", client.describe()
                    + " has a cluster secret and this agent has none: configure the same secret on both");
        }
        return client;
    }

    /** The accepting side's CHALLENGE: its own Hello. */
    public static ByteBuf challenge(Hello server) {
        return Frames.of(Frames.CHALLENGE, server.encode());
    }

    /** The connecting side's AUTH: its MAC over both Hellos (empty without a secret). */
    public static ByteBuf auth(ClusterSecret secret, Hello client, Hello server) {
        byte[] mac = secret == null ? new byte[0] : secret.mac(CLIENT, client.encode(), server.encode());
        return Frames.start(Frames.AUTH, 1 + mac.length, 0).writeByte(mac.length).writeBytes(mac);
    }

    /**
     * The accepting side checks AUTH: returns the PROOF frame to send, or throws a {@link ProtocolException}
     * ({@code bad_mac}, {@code malformed}).
     */
    public static ByteBuf verifyAuth(ClusterSecret secret, Hello client, Hello server, ByteBuf authHeader) {
        byte[] mac = mac(authHeader, "malformed", client);
        if (secret == null) return Frames.start(Frames.PROOF, 1, 0).writeByte(0);
        if (!secret.verify(mac, CLIENT, client.encode(), server.encode())) {
            throw new ProtocolException("bad_mac", client.describe() + " failed the challenge: its cluster secret differs");
        }
        byte[] proof = secret.mac(SERVER, client.encode(), server.encode());
        return Frames.start(Frames.PROOF, 1 + proof.length, 0).writeByte(proof.length).writeBytes(proof);
    }

    /** The connecting side checks PROOF; throws a {@link ProtocolException} when the accepting side did not prove the secret. */
    public static void verifyProof(ClusterSecret secret, Hello client, Hello server, ByteBuf proofHeader) {
        byte[] mac = mac(proofHeader, "bad_proof", server);
        if (secret != null && !server.hasSecret()) {
            throw new ProtocolException("bad_proof", server.describe() + " has no cluster secret; this agent requires one");
        }
        if (secret != null && !secret.verify(mac, SERVER, client.encode(), server.encode())) {
            throw new ProtocolException("bad_proof", server.describe() + " did not prove the cluster secret");
        }
    }

    private static byte[] mac(ByteBuf header, String reason, Hello from) {
        try {
            byte[] mac = new byte[header.readUnsignedByte()];
            header.readBytes(mac);
            return mac;
        } catch (IndexOutOfBoundsException e) {
            throw new ProtocolException(reason, from.describe() + " sent a malformed MAC");
        }
    }

    /**
     * The connecting side checks the CHALLENGE before answering it: the agent reached must be the one expected (same name
     * and incarnation). Throws a {@link ProtocolException} otherwise.
     */
    public static void checkServer(Hello server, String expectedAgent, AgentIdentity expected, Hello self) {
        if (server.agent().equals(self.agent()) && server.identity().epoch() == self.identity().epoch()) {
            throw new ProtocolException("identity_mismatch", "reached " + server.describe() + ", expected agent " + expectedAgent
                    + " epoch " + Long.toUnsignedString(expected.epoch(), 16)
                    + ": that is this agent itself (the peer's advertised address leads back to this process)");
        }
        if (!server.agent().equals(expectedAgent) || !server.identity().sameAs(expected)) {
            throw new ProtocolException("identity_mismatch", "reached " + server.describe() + " (" + server.identity()
                    + "), expected agent " + expectedAgent + " epoch " + Long.toUnsignedString(expected.epoch(), 16) + " (" + expected + ")");
        }
    }

    private static void string(ByteBuf b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > MAX_STRING) throw new IllegalArgumentException("handshake string longer than " + MAX_STRING + " bytes");
        b.writeShort(bytes.length).writeBytes(bytes);
    }

    private static String string(ByteBuf b) {
        int n = b.readUnsignedShort();
        if (n > MAX_STRING) throw new IllegalArgumentException("handshake string of " + n + " bytes");
        return b.readCharSequence(n, StandardCharsets.UTF_8).toString();
    }
}
