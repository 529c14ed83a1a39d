package io.tandem.transfer.shm;

import io.tandem.transfer.TransferException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * An agent's shm probe: a small file (mode 0600) beside its region files holding a random nonce. A peer that maps the
 * file and reads back the same nonce shares this agent's shm directory — the same files, not merely the same path —
 * so it can map the regions too. The nonce is never published; only the file's path is.
 */
final class ShmProbe {
    static final int NONCE_BYTES = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path path;
    private final byte[] nonce;

    private ShmProbe(Path path, byte[] nonce) {
        this.path = path;
        this.nonce = nonce;
    }

    static ShmProbe create(Path path) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            path.toFile().deleteOnExit();
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(nonce);
                while (b.hasRemaining()) ch.write(b);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // nothing more to do
            }
            throw new TransferException("cannot create the shm probe file " + path + ": " + e.getMessage(), e);
        }
        return new ShmProbe(path, nonce);
    }

    /** Maps a peer's probe file in {@code arena} and reads its nonce. */
    static byte[] read(Path path, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            if (ch.size() != NONCE_BYTES) throw new IOException("probe file " + path + " has " + ch.size() + " bytes, not " + NONCE_BYTES);
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, NONCE_BYTES, arena);
            return m.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    Path path() {
        return path;
    }

    boolean confirms(byte[] presented) {
        return presented != null && MessageDigest.isEqual(nonce, presented);
    }

    void delete() {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // deleteOnExit is the backup
        }
    }
}
