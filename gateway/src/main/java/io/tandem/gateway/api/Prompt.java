package io.tandem.gateway.api;

/** The prompt of a {@code /v1/completions} request: text to tokenize, or token ids as given. */
public sealed interface Prompt {

    record Text(String text) implements Prompt {}

    record TokenIds(int[] ids) implements Prompt {}
}
