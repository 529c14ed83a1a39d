package io.tandem.gateway.api;

/** The two generation endpoints; they share everything but input and output shapes. */
public enum Endpoint {
    CHAT("/v1/chat/completions", "chatcmpl-", "chat.completion"),
    COMPLETION("/v1/completions", "cmpl-", "text_completion");

    private final String path;
    private final String idPrefix;
    private final String object;

    Endpoint(String path, String idPrefix, String object) {
        this.path = path;
        this.idPrefix = idPrefix;
        this.object = object;
    }

    public String path() {
        return path;
    }

    /** Prefix of response ids, as OpenAI uses them. */
    public String idPrefix() {
        return idPrefix;
    }

    /** The {@code object} of a non-streamed response. */
    public String object() {
        return object;
    }

    /** The {@code object} of a streamed chunk. */
    public String chunkObject() {
        return this == CHAT ? "chat.completion.chunk" : "text_completion";
    }
}
