package io.tandem.gateway.router;

import io.tandem.protocol.WorkerRecord;

/** The worker a request goes to and how much of its prompt that worker is known to have cached. */
public record RouteChoice(WorkerRecord worker, int cachedBlocks, int promptBlocks) {}
