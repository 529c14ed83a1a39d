package io.tandem.gateway.planner;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRole;

/**
 * One live worker's last load report, as the planner reads it from the registry.
 *
 * @param reportedAtMillis when the worker sent it (its heartbeat): a report is learnt from once
 * @param blockSize        tokens per KV block of its cache (its cluster contract)
 */
public record WorkerReport(String workerId, WorkerRole role, WorkerLoad load, long reportedAtMillis, int blockSize) {}
