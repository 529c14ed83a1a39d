package io.tandem.model.gguf;

import java.io.IOException;

/** A GGUF file that does not follow the format; the message names the byte offset and what was expected. */
public final class GgufFormatException extends IOException {
    private final long offset;

    public GgufFormatException(long offset, String message) {
        super("offset " + offset + ": " + message);
        this.offset = offset;
    }

    /** Byte offset in the file where the problem was found. */
    public long offset() {
        return offset;
    }
}
