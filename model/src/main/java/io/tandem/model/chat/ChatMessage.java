package io.tandem.model.chat;

import java.util.Objects;

/** One turn of a conversation as the chat template sees it: {@code role} (system, user, assistant, tool...) and text. */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        if (content == null) content = "";
    }

    public static ChatMessage system(String content) { return new ChatMessage("system", content); }
    public static ChatMessage user(String content) { return new ChatMessage("user", content); }
    public static ChatMessage assistant(String content) { return new ChatMessage("assistant", content); }
}
