package io.tandem.model;

import io.tandem.model.gguf.GgufFile;
import io.tandem.model.gguf.TensorInfo;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * What identifies a model across the cluster: SHA-256 over a GGUF file's metadata (every key with its type and
 * value, keys in sorted order) and its tensor layout (name, ggml type, shape and data offset of every tensor, by
 * name), truncated to 128 bits and written as 32 lower-case hex digits.
 *
 * <p>A different model, quantization, tokenizer, chat template or any other changed metadata value gives another
 * fingerprint; the same file gives the same one in every JVM; the order of keys and tensors in the file and its GGUF
 * version (2 or 3) do not count. The weights are not read (hashing gigabytes would take seconds), so two files that
 * differ only in weight values share a fingerprint. Values are hashed as the file encodes them (GGUF's
 * little-endian encoding, read straight from the mapping): the largest test model, with 150 k vocabulary entries
 * and as many merges, takes about 4 ms.
 */
public final class ModelFingerprint {
    /** Length of a fingerprint in hex digits. */
    public static final int HEX_LENGTH = 32;
    /** Versions the encoding below: change it whenever the encoding changes. */
    private static final String DOMAIN = "tandem.model-fingerprint.v1";

    private ModelFingerprint() {
    }

    /** The fingerprint of an opened GGUF file (valid while it is open). */
    public static String of(GgufFile file) {
        Digest d = new Digest();
        d.string(DOMAIN);
        List<String> keys = new ArrayList<>(file.metadata().keys());
        keys.sort(Comparator.naturalOrder());
        d.u64(keys.size());
        for (String key : keys) {
            d.string(key);
            d.raw(file.encodedValue(key)); // type id and value, self-delimiting
        }
        List<TensorInfo> tensors = new ArrayList<>(file.tensors());
        tensors.sort(Comparator.comparing(TensorInfo::name));
        d.u64(tensors.size());
        for (TensorInfo t : tensors) {
            d.string(t.name());
            d.u32(t.type().id());
            d.u32(t.nDims());
            for (int i = 0; i < t.nDims(); i++) d.u64(t.dim(i));
            d.u64(t.offset());
        }
        return HexFormat.of().formatHex(d.finish(), 0, HEX_LENGTH / 2);
    }

    /** Little-endian fields into SHA-256 through a small buffer. */
    private static final class Digest {
        private final MessageDigest sha;
        private final ByteBuffer buf = ByteBuffer.allocate(1 << 12).order(ByteOrder.LITTLE_ENDIAN);

        Digest() {
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every Java platform has SHA-256", e);
            }
        }

        private void flush() {
            sha.update(buf.array(), 0, buf.position());
            buf.clear();
        }

        void u32(int v) {
            if (buf.remaining() < 4) flush();
            buf.putInt(v);
        }

        void u64(long v) {
            if (buf.remaining() < 8) flush();
            buf.putLong(v);
        }

        /** UTF-8 length, then the bytes (as GGUF writes strings). */
        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            if (b.length > buf.remaining()) flush();
            if (b.length > buf.capacity()) sha.update(b);
            else buf.put(b);
        }

        void raw(MemorySegment bytes) {
            flush();
            sha.update(bytes.asByteBuffer());
        }

        byte[] finish() {
            flush();
            return sha.digest();
        }
    }
}
