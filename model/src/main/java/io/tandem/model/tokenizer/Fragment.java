package io.tandem.model.tokenizer;

/** A piece of input text after special tokens have been split out: plain text, or one special token. */
sealed interface Fragment {
    record Text(String text) implements Fragment {
    }

    record Special(int id) implements Fragment {
    }
}
