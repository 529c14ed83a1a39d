package io.tandem.model.chat;

/**
 * A chat template rejected the conversation ({@code raise_exception(msg)}: the message is exactly {@code msg})
 * or could not be rendered (syntax or evaluation error).
 */
public final class ChatTemplateException extends Exception {
    private final boolean raisedByTemplate;

    public ChatTemplateException(String message, boolean raisedByTemplate) {
        super(message);
        this.raisedByTemplate = raisedByTemplate;
    }

    /** True when the template itself called {@code raise_exception}: the client's conversation is invalid. */
    public boolean raisedByTemplate() {
        return raisedByTemplate;
    }
}
