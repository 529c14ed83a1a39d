package io.tandem.model.tokenizer;

/**
 * Token attributes as bit flags. GGUF stores one token type per token ({@code tokenizer.ggml.token_type});
 * llama.cpp turns it into a flag and may add flags on load (a NORMAL token whose text looks like an end
 * token becomes NORMAL|CONTROL), so a token can carry several.
 */
final class TokenAttr {
    static final int UNDEFINED = 0;
    static final int UNKNOWN = 1;
    static final int UNUSED = 1 << 1;
    static final int NORMAL = 1 << 2;
    static final int CONTROL = 1 << 3;
    static final int USER_DEFINED = 1 << 4;
    static final int BYTE = 1 << 5;

    /** GGUF token type ids (llama.cpp's llama_token_type). */
    static final int TYPE_UNDEFINED = 0, TYPE_NORMAL = 1, TYPE_UNKNOWN = 2, TYPE_CONTROL = 3,
            TYPE_USER_DEFINED = 4, TYPE_UNUSED = 5, TYPE_BYTE = 6;

    private TokenAttr() {
    }

    static int fromType(int type) {
        return switch (type) {
            case TYPE_NORMAL -> NORMAL;
            case TYPE_UNKNOWN -> UNKNOWN;
            case TYPE_CONTROL -> CONTROL;
            case TYPE_USER_DEFINED -> USER_DEFINED;
            case TYPE_UNUSED -> UNUSED;
            case TYPE_BYTE -> BYTE;
            default -> UNDEFINED;
        };
    }
}
