package io.tandem.engine.sim;

import io.tandem.engine.TokenSink;
import io.tandem.protocol.ErrorCode;
import io.tandem.protocol.FinishReason;
import io.tandem.protocol.TokenLogprobs;
import io.tandem.protocol.Usage;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Collects one request's output and checks the sink contract (nothing after the terminal call). */
public class RecordingSink implements TokenSink {
    public record Terminal(FinishReason reason, Usage usage, ErrorCode code, String message) {}

    private final List<Integer> tokens = new ArrayList<>();
    public final CompletableFuture<Terminal> done = new CompletableFuture<>();
    public final AtomicInteger terminalCalls = new AtomicInteger();
    public volatile boolean sawLogprobs;
    public volatile String contractViolation;

    @Override
    public synchronized void onToken(int token, TokenLogprobs logprobs) {
        if (done.isDone()) contractViolation = "token after terminal";
        if (logprobs != null) sawLogprobs = true;
        tokens.add(token);
    }

    @Override
    public void onFinished(FinishReason reason, Usage usage) {
        terminalCalls.incrementAndGet();
        done.complete(new Terminal(reason, usage, null, null));
    }

    @Override
    public void onFailed(ErrorCode code, String message) {
        terminalCalls.incrementAndGet();
        done.complete(new Terminal(null, null, code, message));
    }

    public synchronized int[] tokens() {
        return tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    public synchronized int count() {
        return tokens.size();
    }

    public Terminal await() throws Exception {
        return done.get(10, TimeUnit.SECONDS);
    }

    public void awaitTokens(int n) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (count() < n) {
            if (System.nanoTime() > end) throw new AssertionError("only " + count() + " of " + n + " tokens arrived");
            if (done.isDone()) throw new AssertionError("ended after " + count() + " tokens: " + done.join());
            Thread.sleep(1);
        }
    }
}
