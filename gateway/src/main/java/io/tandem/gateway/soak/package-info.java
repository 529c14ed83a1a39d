/**
 * {@code gateway.jar soak}: a real cluster on loopback (one gateway, two simulated-engine workers as their own
 * JVMs) under thousands of concurrent SSE streams for minutes, with deliberate client disconnects and cancels and a
 * worker restarted halfway, then checks that nothing failed and nothing leaked (heap after GC, live threads, KV
 * blocks). The load plan ({@link io.tandem.gateway.soak.LoadPlan}), the stream check
 * ({@link io.tandem.gateway.soak.SseStream}), the metrics parsing ({@link io.tandem.gateway.soak.PrometheusText})
 * and the verdict and table ({@link io.tandem.gateway.soak.SoakChecks}, {@link io.tandem.gateway.soak.SoakReport})
 * are pure; {@link io.tandem.gateway.soak.SoakCluster} and {@link io.tandem.gateway.soak.LoadDriver} do the I/O.
 */
package io.tandem.gateway.soak;
