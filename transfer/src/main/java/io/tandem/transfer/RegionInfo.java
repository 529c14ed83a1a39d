package io.tandem.transfer;

/** What a peer learns about one registered region: its id, label, size and (for shm) backing file. */
public record RegionInfo(int id, String label, long size, String path) {
}
