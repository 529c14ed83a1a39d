package io.tandem.loadtests.replay;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One line of a Mooncake trace: {@code {"timestamp": ms, "input_length": n, "output_length": n, "hash_ids": [...]}}.
 * Each hash id names one 512-token block of the prompt; two requests with the same first {@code k} ids share a
 * {@code k}-block prefix.
 */
public record TraceEntry(long timestampMs, int inputLength, int outputLength, long[] hashIds) {
    /** The block size the trace's hash ids stand for. */
    public static final int TRACE_BLOCK_TOKENS = 512;

    public TraceEntry {
        if (timestampMs < 0) throw new IllegalArgumentException("timestamp must be >= 0, got " + timestampMs);
        if (inputLength < 1) throw new IllegalArgumentException("input_length must be >= 1, got " + inputLength);
        if (outputLength < 1) throw new IllegalArgumentException("output_length must be >= 1, got " + outputLength);
    }

    /** Parses one line; {@code where} names it in the error (e.g. {@code "trace.jsonl:12"}). */
    public static TraceEntry parse(String line, String where) {
        try {
            JsonObject o = new JsonObject(line);
            JsonArray ids = o.getJsonArray("hash_ids", new JsonArray());
            long[] hashIds = new long[ids.size()];
            for (int i = 0; i < hashIds.length; i++) hashIds[i] = ids.getLong(i);
            return new TraceEntry(number(o, "timestamp"), (int) number(o, "input_length"), (int) number(o, "output_length"), hashIds);
        } catch (DecodeException | ClassCastException | IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": not a Mooncake trace line (" + e.getMessage() + ")", e);
        }
    }

    private static long number(JsonObject o, String key) {
        if (!(o.getValue(key) instanceof Number n)) throw new IllegalArgumentException("'" + key + "' must be a number");
        return n.longValue();
    }

    /** The first {@code limit} entries of a trace file (blank lines skipped), in file order. */
    public static List<TraceEntry> read(Path file, int limit) {
        List<TraceEntry> entries = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int n = 0;
            while (entries.size() < limit && (line = in.readLine()) != null) {
                n++;
                if (!line.isBlank()) entries.add(parse(line, file.getFileName() + ":" + n));
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException("the trace " + file + " does not exist", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the trace " + file + ": " + e.getMessage(), e);
        }
        if (entries.isEmpty()) throw new IllegalArgumentException("the trace " + file + " has no requests");
        return entries;
    }
}
