package io.tandem.loadtests.grpc;

import com.google.protobuf.ByteString;
import io.tandem.protocol.grpc.inference.GRPCInferenceServiceGrpcClient;
import io.tandem.protocol.grpc.inference.InferParameter;
import io.tandem.protocol.grpc.inference.InferTensorContents;
import io.tandem.protocol.grpc.inference.ModelInferRequest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Closed-loop load on one gateway's ModelStreamInfer: {@code concurrency} clients, each sending its next request as
 * soon as its previous one ended, until {@code requests} were sent. Every request is its own call with a distinct
 * prompt, streamed ({@code stream} true), greedy, for exactly {@code maxTokens} tokens ({@code ignore_eos}); each call
 * is cancelled by the client after {@code timeoutSeconds}. One event loop takes each receive time as messages arrive.
 */
public final class StreamLoad implements AutoCloseable {

    /** One request: when it was sent and what came back. */
    public record Done(long sentNanos, long endNanos, KServeStream.Outcome outcome) {}

    private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    private final GrpcClient client;
    private final SocketAddress server;
    private final String model;
    private final int maxTokens;
    private final long timeoutSeconds;
    private long nextPrompt;

    public StreamLoad(String host, int port, String model, int maxTokens, long timeoutSeconds) {
        this.client = GrpcClient.client(vertx, new GrpcClientOptions().setScheduleDeadlineAutomatically(true).setMaxMessageSize(1 << 20));
        this.server = SocketAddress.inetSocketAddress(port, host);
        this.model = model;
        this.maxTokens = maxTokens;
        this.timeoutSeconds = timeoutSeconds;
    }

    /** Runs the load and blocks until every request ended (each within its timeout, so the whole run is bounded). */
    public List<Done> run(int concurrency, int requests) {
        return run(concurrency, requests, done -> { });
    }

    /** {@link #run(int, int)}, telling {@code onDone} the number of requests ended after each one (on the event loop). */
    public List<Done> run(int concurrency, int requests, IntConsumer onDone) {
        Promise<List<Done>> all = Promise.promise();
        vertx.runOnContext(v -> {
            List<Done> done = new ArrayList<>();
            int[] started = {0}, running = {concurrency};
            Runnable[] next = new Runnable[1];
            next[0] = () -> {
                if (started[0] >= requests) {
                    if (--running[0] == 0) all.complete(done);
                    return;
                }
                started[0]++;
                long sent = System.nanoTime();
                send(nextPrompt++, sent).onComplete(ar -> {
                    done.add(new Done(sent, System.nanoTime(), ar.result()));
                    onDone.accept(done.size());
                    next[0].run();
                });
            };
            for (int i = 0; i < concurrency; i++) next[0].run();
        });
        long bound = ((long) requests / concurrency + 1) * timeoutSeconds + 60;
        try {
            return all.future().toCompletionStage().toCompletableFuture().get(bound, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the load did not complete within " + bound + " s", e);
        }
    }

    /** One streamed request; never fails (a failure is in the outcome). */
    private Future<KServeStream.Outcome> send(long promptIndex, long sent) {
        KServeStream stream = new KServeStream(sent);
        Promise<KServeStream.Outcome> result = Promise.promise();
        try {
            call(promptIndex, stream, result);
        } catch (Throwable t) { // a client that cannot send (a missing class, say) must fail the request, not hang the run
            stream.fail("cannot send: " + t);
            result.tryComplete(stream.outcome(maxTokens));
        }
        return result.future();
    }

    private void call(long promptIndex, KServeStream stream, Promise<KServeStream.Outcome> result) {
        client.request(server, GRPCInferenceServiceGrpcClient.ModelStreamInfer).onComplete(ar -> {
            if (ar.failed()) {
                stream.fail("call failed: " + ar.cause());
                result.tryComplete(stream.outcome(maxTokens));
                return;
            }
            var req = ar.result();
            req.timeout(timeoutSeconds, TimeUnit.SECONDS);
            req.response().onFailure(err -> {
                stream.fail("call failed: " + err);
                result.tryComplete(stream.outcome(maxTokens));
            }).onSuccess(resp -> {
                resp.handler(m -> stream.response(m, System.nanoTime()));
                resp.exceptionHandler(err -> {
                    stream.fail("stream failed: " + err);
                    result.tryComplete(stream.outcome(maxTokens));
                });
                resp.endHandler(end -> {
                    if (resp.status() != io.vertx.grpc.common.GrpcStatus.OK) stream.fail("status " + resp.status() + ": " + resp.statusMessage());
                    result.tryComplete(stream.outcome(maxTokens));
                });
            });
            req.end(request(promptIndex));
        });
    }

    /** A distinct prompt per request, so no request reuses another's cached prefix. */
    ModelInferRequest request(long index) {
        String prompt = "Request " + index + ": tell me the fortune of visitor number " + (index * 7919 % 100_003) + ".";
        return ModelInferRequest.newBuilder().setModelName(model).setId("load-" + index)
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("text_input").setDatatype("BYTES").addShape(1)
                        .setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFromUtf8(prompt))))
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("stream").setDatatype("BOOL").addShape(1)
                        .setContents(InferTensorContents.newBuilder().addBoolContents(true)))
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("sampling_parameters").setDatatype("BYTES").addShape(1)
                        .setContents(InferTensorContents.newBuilder().addBytesContents(ByteString.copyFromUtf8(
                                "{\"ignore_eos\": true}"))))
                .putParameters("max_tokens", InferParameter.newBuilder().setInt64Param(maxTokens).build())
                .putParameters("temperature", InferParameter.newBuilder().setDoubleParam(0).build())
                .build();
    }

    @Override
    public void close() {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
