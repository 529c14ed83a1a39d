package io.tandem.transfer.nixl;

import io.tandem.transfer.TransferException;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * What the NIXL backend tells peers (its payload in {@link io.tandem.transfer.AgentMetadata}, which travels through
 * {@code /route}): NIXL's own metadata blob ({@code nixl_capi_get_local_md}: agent name, UCX address, registered
 * memory with rkeys) and, per region, the base address and size a peer adds offsets to. Binary, big endian: magic
 * "NXL1", int blob length, blob, int region count, then per region int id, long base, long size.
 */
record NixlPayload(byte[] metadata, List<Region> regions) {
    private static final int MAGIC = 0x4e584c31; // "NXL1"

    record Region(int id, long base, long size) {
    }

    NixlPayload {
        regions = List.copyOf(regions);
    }

    Region region(int id) {
        for (Region r : regions) if (r.id == id) return r;
        return null;
    }

    byte[] encode() {
        ByteBuffer b = ByteBuffer.allocate(12 + metadata.length + 20 * regions.size())
                .putInt(MAGIC).putInt(metadata.length).put(metadata).putInt(regions.size());
        for (Region r : regions) b.putInt(r.id).putLong(r.base).putLong(r.size);
        return b.array();
    }

    static NixlPayload decode(byte[] bytes) {
        try {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            if (b.getInt() != MAGIC) throw new TransferException("not a NIXL payload");
            byte[] metadata = new byte[b.getInt()];
            b.get(metadata);
            int count = b.getInt();
            if (count < 0 || count > b.remaining() / 20) throw new TransferException("malformed NIXL payload: " + count + " regions");
            List<Region> regions = new ArrayList<>(count);
            for (int i = 0; i < count; i++) regions.add(new Region(b.getInt(), b.getLong(), b.getLong()));
            return new NixlPayload(metadata, regions);
        } catch (BufferUnderflowException | NegativeArraySizeException e) {
            throw new TransferException("truncated NIXL payload", e);
        }
    }

    @Override
    public String toString() {
        return "NixlPayload[" + metadata.length + " bytes of NIXL metadata, regions=" + regions + "]";
    }
}
