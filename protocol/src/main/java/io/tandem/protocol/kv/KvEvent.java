package io.tandem.protocol.kv;

import io.tandem.protocol.BlockHasher;

import java.util.Arrays;

/**
 * A change to the set of KV blocks a worker's prefix cache holds, identified by their chained
 * block hashes ({@link BlockHasher}). Applying a worker's events in sequence order to an empty
 * set yields exactly the hashes that worker can serve from cache.
 */
public sealed interface KvEvent {

    /**
     * Full blocks that became cached, in chain order: {@code blockHashes[0]}'s parent is
     * {@code parentHash} ({@link BlockHasher#ROOT} for a prompt's first block), and each later
     * hash's parent is the hash before it.
     */
    record BlocksStored(long[] blockHashes, long parentHash) implements KvEvent {
        public BlocksStored {
            if (blockHashes == null || blockHashes.length == 0) throw new IllegalArgumentException("BlocksStored needs at least one hash");
            blockHashes = blockHashes.clone();
        }

        @Override
        public long[] blockHashes() {
            return blockHashes.clone();
        }

        /** Number of hashes, without copying them. */
        public int size() {
            return blockHashes.length;
        }

        /** The {@code i}-th hash, without copying. */
        public long hash(int i) {
            return blockHashes[i];
        }

        /** The parent of the {@code i}-th hash. */
        public long parentOf(int i) {
            return i == 0 ? parentHash : blockHashes[i - 1];
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BlocksStored s && parentHash == s.parentHash && Arrays.equals(blockHashes, s.blockHashes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(blockHashes) * 31 + Long.hashCode(parentHash);
        }

        @Override
        public String toString() {
            return "BlocksStored[parent=" + Long.toHexString(parentHash) + ", hashes=" + hex(blockHashes) + "]";
        }
    }

    /** Blocks evicted from the cache (their memory was needed for something else). */
    record BlocksRemoved(long[] blockHashes) implements KvEvent {
        public BlocksRemoved {
            if (blockHashes == null || blockHashes.length == 0) throw new IllegalArgumentException("BlocksRemoved needs at least one hash");
            blockHashes = blockHashes.clone();
        }

        @Override
        public long[] blockHashes() {
            return blockHashes.clone();
        }

        public int size() {
            return blockHashes.length;
        }

        public long hash(int i) {
            return blockHashes[i];
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof BlocksRemoved r && Arrays.equals(blockHashes, r.blockHashes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(blockHashes);
        }

        @Override
        public String toString() {
            return "BlocksRemoved[hashes=" + hex(blockHashes) + "]";
        }
    }

    /** Every cached block is gone (cache reset); a snapshot for a resync starts with this too. */
    record AllBlocksCleared() implements KvEvent {}

    private static String hex(long[] hashes) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < hashes.length; i++) sb.append(i == 0 ? "" : ", ").append(Long.toHexString(hashes[i]));
        return sb.append(']').toString();
    }
}
