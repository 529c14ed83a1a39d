package io.tandem.gateway.planner;

/**
 * What the live workers measured about themselves, per role.
 *
 * @param prefillWorkers         live workers of role prefill (not draining)
 * @param decodeWorkers          live workers that take generate requests (decode or both; not draining)
 * @param prefillTokensPerSecond one worker's prefill rate: the mean of the measured prefill workers' reports, else of
 *                               every measured worker's (a decode worker prefills too); 0 while nobody measured one
 * @param prefillRateFrom        whose reports that rate is the mean of ({@code prefill workers}, {@code all workers},
 *                               {@code unmeasured})
 * @param decodeStep             a decode worker's step time against its batch, fitted on the decode-capable workers'
 *                               reports
 * @param kvBlocksPerWorker      KV blocks of a decode-capable worker's cache (mean; 0 when not reported)
 * @param blockSize              tokens per KV block (0 when unknown)
 */
public record PoolRates(int prefillWorkers, int decodeWorkers, double prefillTokensPerSecond, String prefillRateFrom,
                        StepModel decodeStep, long kvBlocksPerWorker, int blockSize) {

    public static final PoolRates NONE = new PoolRates(0, 0, 0, "unmeasured", StepModel.UNMEASURED, 0, 0);
}
