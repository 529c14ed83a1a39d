package io.tandem.gateway.router;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRecord;
import io.tandem.protocol.WorkerRole;

/** Worker records for the router's tests. */
final class Workers {
    private Workers() {}

    static WorkerRecord worker(String id, WorkerRole role, WorkerLoad load) {
        return new WorkerRecord(id, role, "m", "node", "127.0.0.1", 0, 256, load, 0, 1, ContractFilterTest.contract(16), 0);
    }

    static WorkerRecord decode(String id) {
        return worker(id, WorkerRole.DECODE, WorkerLoad.IDLE);
    }

    /** A decode worker reporting {@code running} requests and {@code activeBlocks} active KV blocks of 100. */
    static WorkerRecord decode(String id, int running, int activeBlocks) {
        return worker(id, WorkerRole.DECODE, new WorkerLoad(running, 0, activeBlocks, 100));
    }
}
