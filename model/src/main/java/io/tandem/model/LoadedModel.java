package io.tandem.model;

import io.tandem.model.chat.ChatMessage;
import io.tandem.model.chat.ChatTemplate;
import io.tandem.model.chat.ChatTemplateException;
import io.tandem.model.gguf.GgufFile;
import io.tandem.model.gguf.GgufMetadata;
import io.tandem.model.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A GGUF model opened for serving: the mapped file, its config, tokenizer and chat template. Thread-safe;
 * {@link #close()} unmaps the file (tensor slices from {@link #gguf()} become invalid).
 */
public final class LoadedModel implements AutoCloseable {
    public static final String CHAT_TEMPLATE_KEY = "tokenizer.chat_template";

    private final String name;
    private final GgufFile gguf;
    private final ModelConfig config;
    private final Tokenizer tokenizer;
    private final ChatTemplate chatTemplate;
    private final boolean hasOwnChatTemplate;
    private volatile String fingerprint;

    private LoadedModel(String name, GgufFile gguf, ModelConfig config, Tokenizer tokenizer,
                        ChatTemplate chatTemplate, boolean hasOwnChatTemplate) {
        this.name = name;
        this.gguf = gguf;
        this.config = config;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.hasOwnChatTemplate = hasOwnChatTemplate;
    }

    /**
     * Opens and checks a model file.
     *
     * @throws IOException              when the file cannot be read or is not valid GGUF ({@code GgufFormatException})
     * @throws IllegalArgumentException when the architecture, tokenizer or chat template is unsupported or broken
     *                                  (the message says which)
     */
    public static LoadedModel open(Path path) throws IOException {
        GgufFile gguf = GgufFile.open(path);
        try {
            GgufMetadata m = gguf.metadata();
            ModelConfig config = ModelConfig.from(m);
            Tokenizer tokenizer = Tokenizer.fromGguf(m);
            String name = m.getString("general.name", "").isBlank() ? baseName(path) : m.getString("general.name");
            boolean own = m.contains(CHAT_TEMPLATE_KEY);
            ChatTemplate template = own
                    ? ChatTemplate.of(m.getString(CHAT_TEMPLATE_KEY), tokenText(tokenizer, tokenizer.bosId()),
                    tokenText(tokenizer, tokenizer.eosId()))
                    : ChatTemplate.chatMl();
            checkRenders(template, path);
            return new LoadedModel(name, gguf, config, tokenizer, template, own);
        } catch (RuntimeException | Error e) {
            gguf.close();
            throw e;
        }
    }

    /** {@code general.name}, or the file name without {@code .gguf}. */
    public String name() {
        return name;
    }

    public GgufFile gguf() {
        return gguf;
    }

    /** The file's {@link ModelFingerprint}, computed on first use (a few milliseconds). */
    public String fingerprint() {
        String f = fingerprint;
        if (f == null) fingerprint = f = ModelFingerprint.of(gguf);
        return f;
    }

    public ModelConfig config() {
        return config;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The file's {@code tokenizer.chat_template}, or ChatML when it has none. */
    public ChatTemplate chatTemplate() {
        return chatTemplate;
    }

    /** False when {@link #chatTemplate()} is the ChatML fallback. */
    public boolean hasOwnChatTemplate() {
        return hasOwnChatTemplate;
    }

    @Override
    public void close() {
        gguf.close();
    }

    @Override
    public String toString() {
        return "LoadedModel[" + name + ", " + config.arch() + ", " + gguf.path() + "]";
    }

    private static String tokenText(Tokenizer tokenizer, int id) {
        return id >= 0 && id < tokenizer.vocabSize() ? tokenizer.tokenText(id) : "";
    }

    private static String baseName(Path path) {
        String file = path.getFileName().toString();
        return file.toLowerCase(java.util.Locale.ROOT).endsWith(".gguf") ? file.substring(0, file.length() - 5) : file;
    }

    /** A template that cannot render a one-message conversation is broken; say so at load, not per request. */
    private static void checkRenders(ChatTemplate template, Path path) {
        try {
            template.render(List.of(ChatMessage.user("Hello")), true);
        } catch (ChatTemplateException e) {
            if (!e.raisedByTemplate()) {
                throw new IllegalArgumentException("the chat template of " + path + " cannot be rendered: "
                        + e.getMessage(), e);
            }
        }
    }
}
