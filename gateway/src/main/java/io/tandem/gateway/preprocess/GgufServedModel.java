package io.tandem.gateway.preprocess;

import io.tandem.gateway.api.ApiException;
import io.tandem.gateway.api.Message;
import io.tandem.model.LoadedModel;
import io.tandem.model.chat.ChatMessage;
import io.tandem.model.chat.ChatTemplateException;
import io.tandem.model.tokenizer.IncrementalDetokenizer;
import io.tandem.model.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A model served from a GGUF file: tokenizer, chat template and context length from its
 * metadata. The weights stay untouched (the file is memory-mapped, never read by the gateway).
 */
public final class GgufServedModel implements ServedModel, AutoCloseable {

    private final LoadedModel model;
    private final Tokenizer tokenizer;
    private final String bosText;
    private final String fingerprint;

    private GgufServedModel(LoadedModel model) {
        this.model = model;
        this.fingerprint = model.fingerprint(); // now, off the event loop
        this.tokenizer = model.tokenizer();
        this.bosText = tokenizer.bosId() >= 0 ? tokenizer.tokenText(tokenizer.bosId()) : null;
    }

    public static GgufServedModel open(Path gguf) throws IOException {
        LoadedModel model = LoadedModel.open(gguf);
        try {
            return new GgufServedModel(model);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return model.name();
    }

    @Override
    public String fingerprint() {
        return fingerprint;
    }

    @Override
    public int contextLength() {
        return model.config().contextLength();
    }

    @Override
    public int vocabSize() {
        return tokenizer.vocabSize();
    }

    @Override
    public String renderChat(List<Message> messages) {
        List<ChatMessage> turns = messages.stream()
                // OpenAI's "developer" role is the system prompt of newer models; templates know "system"
                .map(m -> new ChatMessage(m.role().equals("developer") ? "system" : m.role(), m.content()))
                .toList();
        try {
            return model.chatTemplate().render(turns, true);
        } catch (ChatTemplateException e) {
            if (e.raisedByTemplate()) throw ApiException.invalid("messages", e.getMessage());
            // the template rendered a plain user turn at load time, so what breaks it now is this
            // request's conversation: a client error, as vLLM reports it
            throw ApiException.invalid("messages", "The model's chat template cannot render these messages: " + e.getMessage());
        }
    }

    /**
     * Tokenizes with special-token parsing; BOS is added unless the text (a rendered template,
     * typically) already starts with it — llama.cpp's and vLLM's convention.
     */
    @Override
    public int[] encode(String text) {
        boolean hasBos = bosText != null && !bosText.isEmpty() && text.startsWith(bosText);
        return tokenizer.encode(text, !hasBos, true);
    }

    @Override
    public byte[] piece(int token) {
        return tokenizer.tokenToPiece(token, true);
    }

    @Override
    public TextDecoder newDecoder(boolean startsText) {
        IncrementalDetokenizer d = tokenizer.newDetokenizer(startsText);
        return new TextDecoder() {
            @Override
            public String push(int token) {
                return d.push(token);
            }

            @Override
            public String flush() {
                return d.flush();
            }
        };
    }

    @Override
    public void close() {
        model.close();
    }
}
