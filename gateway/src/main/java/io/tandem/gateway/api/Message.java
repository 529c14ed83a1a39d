package io.tandem.gateway.api;

/** One chat message after validation: content parts are already joined into text. */
public record Message(String role, String content) {}
