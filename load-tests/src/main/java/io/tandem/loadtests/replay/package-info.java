/**
 * {@code ./tandem replay}: replays a Mooncake-format request trace (FAST'25) open loop against a {@code /v1/completions}
 * server and reports goodput, TTFT, ITL and the prefix-cache hit rate. The pure parts (trace parsing, hash id to
 * tokens, scaling, statistics, the SVG plot) are apart from the I/O ({@link io.tandem.loadtests.replay.Replayer},
 * {@link io.tandem.loadtests.replay.ReplayCommand}). See docs/REPLAY.md.
 */
package io.tandem.loadtests.replay;
