package io.tandem.protocol.auth;

import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.eventbus.EventBusOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Mutual TLS from PEM files: this member's certificate and private key, and the CA that signed every member's
 * certificate. Both sides present a certificate and both check the other's against the CA, so only holders of a
 * CA-signed key connect. Host names are not verified: members are addressed by IP as often as by name, and trust
 * comes from the private CA, not from DNS.
 */
public record TlsFiles(Path cert, Path key, Path ca) {

    public TlsFiles {
        Objects.requireNonNull(cert, "cert");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(ca, "ca");
        for (Path p : new Path[] {cert, key, ca}) {
            if (!Files.isReadable(p)) throw new IllegalArgumentException("TLS file " + p + " is not readable");
        }
    }

    public PemKeyCertOptions keyCert() {
        return new PemKeyCertOptions().setCertPath(cert.toString()).setKeyPath(key.toString());
    }

    public PemTrustOptions trust() {
        return new PemTrustOptions().addCertPath(ca.toString());
    }

    /** A server that requires a client certificate signed by the CA. */
    public <T extends NetServerOptions> T applyTo(T server) {
        server.setSsl(true).setKeyCertOptions(keyCert()).setTrustOptions(trust()).setClientAuth(ClientAuth.REQUIRED);
        return server;
    }

    /** A client that presents its certificate and trusts only the CA. */
    public NetClientOptions applyTo(NetClientOptions client) {
        client.setSsl(true).setKeyCertOptions(keyCert()).setTrustOptions(trust()).setHostnameVerificationAlgorithm("");
        return client;
    }

    /** Event-bus links between members, both ways. */
    public EventBusOptions applyTo(EventBusOptions bus) {
        bus.setSsl(true).setKeyCertOptions(keyCert()).setTrustOptions(trust()).setClientAuth(ClientAuth.REQUIRED);
        return bus;
    }
}
