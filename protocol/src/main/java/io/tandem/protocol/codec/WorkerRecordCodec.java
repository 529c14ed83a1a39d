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
        // appended after the fields of protocol 3, so a reader of the same version without them ignores them, and a
        // record from a worker without them reads as "not measured"
        if (l != null) w.writeLong(l.queuedPromptTokens()).writeDouble(l.prefillTokensPerSecond()).writeDouble(l.decodeStepMillis());
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
        long registered = r.readLong();
        if (load != null && r.remaining() > 0) {
            load = new WorkerLoad(load.runningRequests(), load.waitingRequests(), load.activeBlocks(), load.totalBlocks(),
                    load.draining(), Math.max(0, r.readLong()), nonNegative(r.readDouble()), nonNegative(r.readDouble()));
        }
        return new WorkerRecord(id, role < 0 ? null : StreamMessageCodec.enumAt(WorkerRole.values(), role), model,
                nodeId, host, port, maxContext, load, heartbeat, epoch, contract, registered);
    }

    private static double nonNegative(double v) {
        return v >= 0 ? v : 0;
    }
}
