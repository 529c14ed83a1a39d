package io.tandem.model.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns generated tokens into text as they arrive. {@link #push} returns the text that is complete: bytes
 * of a UTF-8 sequence split across tokens (byte-fallback tokens, byte-level BPE pieces) are held back until
 * the sequence is complete, so the output never contains half a character or an unpaired surrogate. Control,
 * unknown and unused tokens print nothing; user-defined tokens (e.g. {@code <think>}) print their text, as
 * {@code decode(ids, true, false)} does. Bytes that can never become valid UTF-8 come out as U+FFFD.
 * Not thread-safe: one per stream.
 */
public final class IncrementalDetokenizer {
    private final Tokenizer tokenizer;
    private final int skippedFirstToken;
    private final SpaceCleaner.Stream cleaner;
    private boolean stripSpace;
    private boolean first = true;
    private byte[] pending = new byte[8];
    private int pendingLength;

    /**
     * @param stripLeadingSpace strip one leading space of the first token's piece (SentencePiece space prefix)
     * @param skippedFirstToken a first token that is dropped and turns the stripping off (the BOS), or -1
     * @param cleanSpaces       apply the vocabulary's clean_spaces rules
     */
    IncrementalDetokenizer(Tokenizer tokenizer, boolean stripLeadingSpace, int skippedFirstToken, boolean cleanSpaces) {
        this.tokenizer = tokenizer;
        this.stripSpace = stripLeadingSpace;
        this.skippedFirstToken = skippedFirstToken;
        this.cleaner = cleanSpaces ? new SpaceCleaner.Stream() : null;
    }

    /** A detokenizer that concatenates {@code tokenToPiece(id, false)} of any tokenizer, nothing stripped. */
    public static IncrementalDetokenizer of(Tokenizer tokenizer) {
        return new IncrementalDetokenizer(tokenizer, false, -1, false);
    }

    /** Adds one token; returns the text completed by it (often empty, never a partial character). */
    public String push(int token) {
        if (first) {
            first = false;
            if (token == skippedFirstToken) {
                stripSpace = false;
                return "";
            }
        }
        byte[] piece = tokenizer.tokenToPiece(token, false);
        int skip = stripSpace && piece.length > 0 && piece[0] == ' ' ? 1 : 0;
        stripSpace = false;
        append(piece, skip);
        int complete = completeLength();
        String text = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, pendingLength - complete);
        pendingLength -= complete;
        return cleaner == null ? text : cleaner.feed(text);
    }

    /** Ends the stream: returns whatever is held back (an unfinished UTF-8 sequence becomes U+FFFD). */
    public String flush() {
        String text = new String(pending, 0, pendingLength, StandardCharsets.UTF_8);
        pendingLength = 0;
        return cleaner == null ? text : cleaner.feed(text) + cleaner.finish();
    }

    private void append(byte[] piece, int from) {
        int n = piece.length - from;
        if (pendingLength + n > pending.length) pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + n));
        System.arraycopy(piece, from, pending, pendingLength, n);
        pendingLength += n;
    }

    /**
     * Length of the pending prefix that can be decoded now: everything except a trailing sequence that is
     * still incomplete but could become valid. Invalid bytes are released (they decode to U+FFFD either way).
     */
    private int completeLength() {
        for (int back = 1; back <= Math.min(3, pendingLength); back++) {
            int p = pendingLength - back;
            int lead = pending[p] & 0xFF;
            if ((lead & 0xC0) == 0x80) continue; // continuation byte: look further back for the lead
            return couldComplete(lead, p + 1) ? p : pendingLength;
        }
        return pendingLength;
    }

    /** Are the bytes after {@code lead} (up to the end) a proper prefix of a valid sequence starting with it? */
    private boolean couldComplete(int lead, int from) {
        int need;
        if (lead >= 0xC2 && lead <= 0xDF) need = 2;
        else if (lead >= 0xE0 && lead <= 0xEF) need = 3;
        else if (lead >= 0xF0 && lead <= 0xF4) need = 4;
        else return false; // ASCII or a byte that never starts a sequence
        int have = pendingLength - from + 1;
        if (have >= need) return false; // complete (or invalid) already
        if (have >= 2) {
            int second = pending[from] & 0xFF;
            int lo = lead == 0xE0 ? 0xA0 : lead == 0xF0 ? 0x90 : 0x80;
            int hi = lead == 0xED ? 0x9F : lead == 0xF4 ? 0x8F : 0xBF;
            if (second < lo || second > hi) return false;
        }
        return true; // later bytes were checked to be continuation bytes by the caller's scan
    }
}
