package io.tandem.transfer;

/** A message a peer attached to a transfer; delivered after the transfer's data is in place. */
public record Notification(String fromAgent, byte[] payload) {
}
