package io.tandem.protocol;

/** Why a sequence ended; {@link #openAiName()} is what the API reports. */
public enum FinishReason {
    /** An end-of-generation token, a stop token id or (in the gateway) a stop string. */
    STOP("stop"),
    /** max_tokens or the context length was reached. */
    LENGTH("length"),
    /** Cancelled by the gateway (client disconnect). */
    CANCELLED("cancelled");

    private final String openAiName;

    FinishReason(String openAiName) {
        this.openAiName = openAiName;
    }

    public String openAiName() {
        return openAiName;
    }
}
