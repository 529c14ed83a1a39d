package io.tandem.protocol;

/**
 * The version of the messages, records and data-plane handshake members exchange. Every worker's registry record
 * carries it; a gateway or worker of another version is refused (logged and counted), never half understood.
 * Bump it on any incompatible change.
 */
public final class ProtocolVersion {
    /**
     * 2: cluster contract in worker records, authenticated and fenced KV transfers. 3: resumed tokens in generate
     * requests (migration), keep-alive stream messages, the draining flag in worker load. 4: keys stored element-major
     * inside a KV block (the engine's {@code KvLayout}), so a transferred block of version 3 would be read wrongly.
     */
    public static final int CURRENT = 4;

    private ProtocolVersion() {
    }
}
