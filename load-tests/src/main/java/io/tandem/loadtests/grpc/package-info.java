/**
 * A closed-loop load client for Tandem's KServe v2 gRPC API ({@code inference.GRPCInferenceService/ModelStreamInfer}):
 * {@link io.tandem.loadtests.grpc.GrpcBench} runs N concurrent streams on the Vert.x gRPC client, each request a
 * distinct prompt streamed for a fixed number of tokens, and reports failures, throughput and latencies.
 */
package io.tandem.loadtests.grpc;
