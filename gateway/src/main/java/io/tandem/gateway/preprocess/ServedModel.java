package io.tandem.gateway.preprocess;

import io.tandem.gateway.api.Message;

import java.util.List;

/**
 * What the gateway needs of a model: its name, context, chat template and tokenizer — never
 * its weights. Implementations must be thread-safe (requests are preprocessed concurrently).
 */
public interface ServedModel {

    /** The served name, matched against the workers' {@code WorkerRecord.model}. */
    String name();

    /**
     * The fingerprint of the model file ({@code io.tandem.model.ModelFingerprint}): only workers whose contract states
     * the same one are routed to.
     */
    String fingerprint();

    /** Maximum prompt + generated tokens of one sequence. */
    int contextLength();

    int vocabSize();

    /**
     * Renders the conversation with the model's chat template and the generation prompt.
     *
     * @throws io.tandem.gateway.api.ApiException 400 when the template rejects the conversation
     */
    String renderChat(List<Message> messages);

    /** Tokenizes a prompt text, parsing special tokens; adds BOS unless the text already starts with it. */
    int[] encode(String text);

    /** The text bytes of one token (for logprobs). */
    byte[] piece(int token);

    /**
     * A fresh UTF-8-safe incremental detokenizer for one generated sequence.
     *
     * @param startsText the output starts a text of its own (a chat answer), so a SentencePiece
     *                   vocabulary's word-start space of the first piece is dropped; false for a
     *                   completion, which continues the prompt
     */
    TextDecoder newDecoder(boolean startsText);

    /** Incremental detokenizing of one sequence. */
    interface TextDecoder {
        /** Text that is complete after this token (never a broken UTF-8 sequence). */
        String push(int token);

        /** Whatever is left at the end. */
        String flush();
    }
}
