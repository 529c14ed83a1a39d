package io.tandem.protocol.codec;

import io.tandem.protocol.ClusterContract;
import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;

/**
 * {@link WorkerRecord} in binary: for the event bus and for anything else that stores records
 * as bytes (a registry's map values, say) through {@link #encode}/{@link #decode}.
 */
public final class WorkerRecordCodec extends BinaryCodec<WorkerRecord> {
    public static final String NAME = "tandem.WorkerRecord";

    public WorkerRecordCodec() {
        super(NAME, "WorkerRecord");
    }

    @Override
    void write(WireWriter w, WorkerRecord rec) {
        w.writeString(rec.workerId()).writeByte(rec.role() == null ? -1 : rec.role().ordinal()).writeString(rec.model())
                .writeString(rec.nodeId()).writeString(rec.host()).writeInt(rec.httpPort()).writeInt(rec.maxContext());
        WorkerLoad l = rec.load();
        w.writeBoolean(l != null);
        if (l != null) w.writeInt(l.runningRequests()).writeInt(l.waitingRequests()).writeInt(l.activeBlocks()).writeInt(l.totalBlocks())
                .writeBoolean(l.draining());
        w.writeLong(rec.heartbeatMillis()).writeLong(rec.epoch());
        ClusterContract c = rec.contract();
        w.writeBoolean(c != null);
        if (c != null) {
            w.writeString(c.modelFingerprint()).writeInt(c.blockSize()).writeString(c.kvDtype()).writeString(c.kvLayout())
                    .writeInt(c.protocolVersion());
        }
        w.writeLong(rec.registeredMillis());
    }

    @Override
    WorkerRecord read(WireReader r) {
        String id = r.readString();
        byte role = r.readByte();
        String model = r.readString(), nodeId = r.readString(), host = r.readString();
        int port = r.readInt(), maxContext = r.readInt();
        WorkerLoad load = r.readBoolean() ? new WorkerLoad(r.readInt(), r.readInt(), r.readInt(), r.readInt(), r.readBoolean()) : null;
        long heartbeat = r.readLong(), epoch = r.readLong();
        ClusterContract contract = r.readBoolean()
                ? new ClusterContract(r.readString(), r.readInt(), r.readString(), r.readString(), r.readInt()) : null;
        return new WorkerRecord(id, role < 0 ? null : StreamMessageCodec.enumAt(WorkerRole.values(), role), model,
                nodeId, host, port, maxContext, load, heartbeat, epoch, contract, r.readLong());
    }
}
