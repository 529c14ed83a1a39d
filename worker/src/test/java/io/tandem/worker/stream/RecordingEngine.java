package io.tandem.worker.stream;

import io.tandem.engine.Engine;
import io.tandem.engine.EngineInfo;
import io.tandem.engine.EngineRequest;
import io.tandem.engine.TokenSink;
import io.tandem.protocol.WorkerLoad;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** An engine that generates nothing and records what it is asked (pause, resume, cancel). */
final class RecordingEngine implements Engine {
    final List<String> calls = Collections.synchronizedList(new ArrayList<>());

    public EngineInfo info() {
        return new EngineInfo("m", 100, 100, 16);
    }

    public void submit(EngineRequest request, TokenSink sink) {}

    public void cancel(String requestId) {
        calls.add("cancel");
    }

    public void setPaused(String requestId, boolean paused) {
        calls.add(paused ? "pause" : "resume");
    }

    public WorkerLoad load() {
        return WorkerLoad.IDLE;
    }

    public int activeRequests() {
        return 0;
    }

    public void close() {}
}
