package io.tandem.model.tokenizer;

/** A vocabulary the tokenizers cannot handle (unknown tokenizer model or pre-tokenizer, inconsistent arrays). */
public class TokenizerException extends IllegalArgumentException {
    public TokenizerException(String message) {
        super(message);
    }
}
