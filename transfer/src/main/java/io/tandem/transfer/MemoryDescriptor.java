package io.tandem.transfer;

/**
 * A byte range of a registered region: {@code length} bytes at {@code offset} inside region {@code region} of one
 * agent (local or a peer's). A transfer pairs a list of local descriptors with an equally long list of remote ones of
 * the same lengths.
 */
public record MemoryDescriptor(int region, long offset, long length) {
    public MemoryDescriptor {
        if (region < 0 || offset < 0 || length <= 0) {
            throw new IllegalArgumentException("bad descriptor: region " + region + ", offset " + offset + ", length " + length);
        }
    }

    public long end() {
        return offset + length;
    }
}
