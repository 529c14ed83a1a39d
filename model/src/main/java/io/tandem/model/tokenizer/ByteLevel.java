package io.tandem.model.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * GPT-2's reversible byte ↔ character mapping for byte-level BPE: printable Latin-1 bytes stand for
 * themselves, the other 68 bytes (controls, space, DEL, NBSP, soft hyphen) for U+0100 onwards in byte
 * order, so the space 0x20 is {@code Ġ} (U+0120) and the newline {@code Ċ} (U+010A).
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[256 + 68];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
            char c = printable ? (char) b : (char) (256 + extra++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    /** The character standing for one byte. */
    static char charOf(int b) {
        return BYTE_TO_CHAR[b];
    }

    /** The byte-level spelling of a text: one character per UTF-8 byte. */
    static String encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        char[] chars = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) chars[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(chars);
    }

    /**
     * The bytes a byte-level token text stands for. A character outside the mapping (a malformed vocabulary)
     * is written as {@code [UNK_BYTE_0x<utf-8 hex><character>]}, as llama.cpp does.
     */
    static byte[] decode(String tokenText) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(tokenText.length());
        for (int i = 0; i < tokenText.length(); ) {
            int cp = tokenText.codePointAt(i);
            i += Character.charCount(cp);
            if (cp < CHAR_TO_BYTE.length && CHAR_TO_BYTE[cp] >= 0) {
                out.write(CHAR_TO_BYTE[cp]);
            } else {
                byte[] utf8 = Character.toString(cp).getBytes(StandardCharsets.UTF_8);
                StringBuilder sb = new StringBuilder("[UNK_BYTE_0x");
                for (byte b : utf8) sb.append(String.format("%02x", b & 0xFF));
                sb.appendCodePoint(cp).append(']');
                out.writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }
}
