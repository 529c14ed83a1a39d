package io.tandem.transfer.ucx;

import io.tandem.transfer.TransferException;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What the UCX backend tells peers: its worker address and, per registered region, the base address and size a peer
 * adds offsets to, and the packed rkey. Binary: magic "UCX1", int address length, address, int region count, then per
 * region int id, long base, long size, int rkey length, rkey (big endian).
 */
record UcxPayload(byte[] workerAddress, List<Region> regions) {
    private static final int MAGIC = 0x55435831; // "UCX1"

    record Region(int id, long base, long size, byte[] rkey) {
        boolean sameAs(Region o) {
            return o != null && id == o.id && base == o.base && size == o.size && Arrays.equals(rkey, o.rkey);
        }
    }

    UcxPayload {
        regions = List.copyOf(regions);
    }

    byte[] encode() {
        int n = 12 + workerAddress.length;
        for (Region r : regions) n += 24 + r.rkey.length;
        ByteBuffer b = ByteBuffer.allocate(n).putInt(MAGIC).putInt(workerAddress.length).put(workerAddress).putInt(regions.size());
        for (Region r : regions) b.putInt(r.id).putLong(r.base).putLong(r.size).putInt(r.rkey.length).put(r.rkey);
        return b.array();
    }

    static UcxPayload decode(byte[] bytes) {
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            if (b.getInt() != MAGIC) throw new TransferException("not a UCX payload");
            byte[] address = new byte[b.getInt()];
            b.get(address);
            int count = b.getInt();
            List<Region> regions = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                int id = b.getInt();
                long base = b.getLong(), size = b.getLong();
                byte[] rkey = new byte[b.getInt()];
                b.get(rkey);
                regions.add(new Region(id, base, size, rkey));
            }
            return new UcxPayload(address, regions);
        } catch (BufferUnderflowException | NegativeArraySizeException e) {
            throw new TransferException("truncated UCX payload", e);
        }
    }
}
