package io.tandem.engine.kv;

/** Element type of the KV cache. F16 halves memory (and transfer bytes) at the cost of rounding K and V. */
public enum KvDataType {
    F32(4), F16(2);

    private final int bytes;

    KvDataType(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }
}
