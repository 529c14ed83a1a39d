package io.tandem.gateway.planner;

import io.tandem.protocol.WorkerLoad;
import io.tandem.protocol.WorkerRole;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * Aggregates the live workers' load reports into {@link PoolRates}: counts per role, the mean measured prefill rate,
 * and the decode step model learnt from every new report of a decode-capable worker (a report seen before is not
 * learnt twice). Pure: the caller passes the reports and the time. Not thread-safe.
 */
public final class PoolObserver {
    private final DecodeStepFit fit;
    private final Map<String, Long> lastReport = new HashMap<>();

    /** @param windowMillis how long a decode step report counts in the fit */
    public PoolObserver(long windowMillis) {
        this.fit = new DecodeStepFit(windowMillis);
    }

    public PoolRates observe(long nowMillis, Collection<WorkerReport> workers) {
        int prefill = 0, decode = 0, prefillMeasured = 0, anyMeasured = 0, kvWorkers = 0, blockSize = 0;
        double prefillRates = 0, anyRates = 0;
        long kvBlocks = 0;
        Map<String, Long> seen = new HashMap<>();
        for (WorkerReport w : workers) {
            WorkerLoad load = w.load();
            seen.put(w.workerId(), w.reportedAtMillis());
            if (load.draining()) continue;
            if (load.prefillTokensPerSecond() > 0) {
                anyMeasured++;
                anyRates += load.prefillTokensPerSecond();
            }
            if (w.role() == WorkerRole.PREFILL) {
                prefill++;
                if (load.prefillTokensPerSecond() > 0) {
                    prefillMeasured++;
                    prefillRates += load.prefillTokensPerSecond();
                }
                continue;
            }
            decode++;
            if (load.totalBlocks() > 0) {
                kvWorkers++;
                kvBlocks += load.totalBlocks();
                blockSize = w.blockSize();
            }
            Long before = lastReport.get(w.workerId());
            if ((before == null || before != w.reportedAtMillis()) && load.runningRequests() > 0) {
                fit.add(nowMillis, load.runningRequests(), load.decodeStepMillis());
            }
        }
        lastReport.clear();
        lastReport.putAll(seen);
        double rate = prefillMeasured > 0 ? prefillRates / prefillMeasured : anyMeasured > 0 ? anyRates / anyMeasured : 0;
        String from = prefillMeasured > 0 ? "prefill workers" : anyMeasured > 0 ? "all workers" : "unmeasured";
        return new PoolRates(prefill, decode, rate, from, fit.model(nowMillis), kvWorkers == 0 ? 0 : kvBlocks / kvWorkers,
                kvWorkers == 0 ? 0 : blockSize);
    }
}
