package io.tandem.gateway.api;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Turns a request body into a {@link CompletionRequest}, or an {@link ApiException} (400)
 * whose {@code param} names the offending field. Pure: no server, no model.
 *
 * <p>Unknown fields are ignored (OpenAI clients send extra ones); known fields the gateway
 * cannot honour (n > 1, echo, tools...) are refused rather than silently ignored. vLLM's
 * extensions {@code ignore_eos} (load tests want fixed output lengths), {@code return_tokens_as_token_ids},
 * {@code priority} and {@code stream_options.continuous_usage_stats} are read.
 */
public final class RequestParser {

    public static final int MAX_STOP_STRINGS = 4;
    public static final int MAX_TOP_LOGPROBS_CHAT = 20;
    public static final int MAX_LOGPROBS_COMPLETION = 5;

    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

    private RequestParser() {}

    /** Parses raw bytes: invalid JSON or a non-object body are 400s too. */
    public static CompletionRequest parse(Endpoint endpoint, Buffer body) {
        return parse(endpoint, object(body));
    }

    /** The body as a JSON object: empty, invalid JSON or not an object are 400s. */
    public static JsonObject object(Buffer body) {
        if (body == null || body.length() == 0) throw ApiException.invalid(null, "The request body is empty; expected a JSON object");
        Object json;
        try {
            json = io.vertx.core.json.Json.decodeValue(body);
        } catch (DecodeException e) {
            throw ApiException.invalid(null, "The request body is not valid JSON: " + firstLine(e.getMessage()));
        }
        if (!(json instanceof JsonObject object)) throw ApiException.invalid(null, "The request body must be a JSON object");
        return object;
    }

    public static CompletionRequest parse(Endpoint endpoint, JsonObject body) {
        Fields f = new Fields(body);
        String model = f.string("model");
        if (model == null || model.isEmpty()) throw ApiException.invalid("model", "'model' is required");

        List<Message> messages = null;
        Prompt prompt = null;
        if (endpoint == Endpoint.CHAT) {
            messages = messages(f.array("messages"));
        } else {
            prompt = prompt(body.getValue("prompt"));
        }

        Integer maxTokens = f.integer("max_tokens");
        Integer maxCompletionTokens = f.integer("max_completion_tokens");
        if (maxCompletionTokens != null) maxTokens = maxCompletionTokens;
        if (maxTokens != null && maxTokens < 1) {
            String param = maxCompletionTokens != null ? "max_completion_tokens" : "max_tokens";
            throw ApiException.invalid(param, "'" + param + "' must be at least 1, got " + maxTokens);
        }

        double temperature = f.number("temperature", 1.0, 0, 2, true, true);
        double topP = f.number("top_p", 1.0, 0, 1, false, true);
        Integer topK = f.integer("top_k");
        if (topK != null && topK < -1) throw ApiException.invalid("top_k", "'top_k' must be -1 or 0 (off) or a positive integer, got " + topK);
        double minP = f.number("min_p", 0.0, 0, 1, true, true);
        Long seed = f.int64("seed");
        double presence = f.number("presence_penalty", 0.0, -2, 2, true, true);
        double frequency = f.number("frequency_penalty", 0.0, -2, 2, true, true);

        Integer n = f.integer("n");
        if (n != null && n != 1) throw ApiException.unsupported("n", "Only n = 1 is supported, got n = " + n);

        Boolean stream = f.bool("stream");
        boolean streaming = stream != null && stream;
        boolean includeUsage = false, continuousUsage = false;
        JsonObject streamOptions = f.object("stream_options");
        if (streamOptions != null) {
            if (!streaming) throw ApiException.invalid("stream_options", "'stream_options' is only allowed when 'stream' is true");
            Fields options = new Fields(streamOptions, "stream_options.");
            Boolean usage = options.bool("include_usage");
            includeUsage = usage != null && usage;
            Boolean continuous = options.bool("continuous_usage_stats");
            continuousUsage = includeUsage && continuous != null && continuous; // as vLLM: only with include_usage
        }

        int logprobs = endpoint == Endpoint.CHAT ? chatLogprobs(f) : completionLogprobs(f);
        String user = f.string("user");
        Boolean ignoreEos = f.bool("ignore_eos");
        Boolean tokensAsIds = f.bool("return_tokens_as_token_ids");
        Integer priority = f.integer("priority");
        refuseUnsupported(endpoint, f);

        return new CompletionRequest(endpoint, model, messages, prompt, maxTokens, temperature, topP,
                topK == null || topK <= 0 ? 0 : topK, minP, seed, stop(body.getValue("stop")), streaming, includeUsage, continuousUsage,
                presence, frequency, logprobs, user, ignoreEos != null && ignoreEos,
                tokensAsIds != null && tokensAsIds, priority == null ? 0 : priority);
    }

    private static int chatLogprobs(Fields f) {
        Boolean logprobs = f.bool("logprobs");
        Integer top = f.integer("top_logprobs");
        if (top != null) {
            if (top < 0 || top > MAX_TOP_LOGPROBS_CHAT)
                throw ApiException.invalid("top_logprobs", "'top_logprobs' must be between 0 and " + MAX_TOP_LOGPROBS_CHAT + ", got " + top);
            if (logprobs == null || !logprobs)
                throw ApiException.invalid("top_logprobs", "'logprobs' must be true when 'top_logprobs' is set");
        }
        if (logprobs == null || !logprobs) return -1;
        return top == null ? 0 : top;
    }

    private static int completionLogprobs(Fields f) {
        Integer logprobs = f.integer("logprobs");
        if (logprobs == null) return -1;
        if (logprobs < 0 || logprobs > MAX_LOGPROBS_COMPLETION)
            throw ApiException.invalid("logprobs", "'logprobs' must be between 0 and " + MAX_LOGPROBS_COMPLETION + ", got " + logprobs);
        return logprobs;
    }

    /** Fields OpenAI defines whose meaning the gateway cannot honour: refuse rather than ignore. */
    private static void refuseUnsupported(Endpoint endpoint, Fields f) {
        JsonArray tools = f.array("tools");
        if (tools != null && !tools.isEmpty()) throw ApiException.unsupported("tools", "Tool calling is not supported");
        JsonObject logitBias = f.object("logit_bias");
        if (logitBias != null && !logitBias.isEmpty()) throw ApiException.unsupported("logit_bias", "'logit_bias' is not supported");
        JsonObject format = f.object("response_format");
        if (format != null) {
            String type = new Fields(format, "response_format.").string("type");
            if (type != null && !type.equals("text"))
                throw ApiException.unsupported("response_format", "Only response_format type 'text' is supported, got '" + type + "'");
        }
        if (endpoint == Endpoint.COMPLETION) {
            Boolean echo = f.bool("echo");
            if (echo != null && echo) throw ApiException.unsupported("echo", "'echo' is not supported");
            Integer bestOf = f.integer("best_of");
            if (bestOf != null && bestOf != 1) throw ApiException.unsupported("best_of", "Only best_of = 1 is supported, got " + bestOf);
            String suffix = f.string("suffix");
            if (suffix != null && !suffix.isEmpty()) throw ApiException.unsupported("suffix", "'suffix' is not supported");
        }
    }

    private static List<Message> messages(JsonArray array) {
        if (array == null) throw ApiException.invalid("messages", "'messages' is required");
        if (array.isEmpty()) throw ApiException.invalid("messages", "'messages' must contain at least one message");
        List<Message> out = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            String path = "messages[" + i + "]";
            if (!(array.getValue(i) instanceof JsonObject m)) throw ApiException.invalid(path, "'" + path + "' must be an object");
            Fields f = new Fields(m, path + ".");
            String role = f.string("role");
            if (role == null) throw ApiException.invalid(path + ".role", "'" + path + ".role' is required");
            if (!ROLES.contains(role))
                throw ApiException.invalid(path + ".role", "'" + path + ".role' must be one of system, developer, user, assistant, tool; got '" + role + "'");
            out.add(new Message(role, content(m.getValue("content"), role, path + ".content")));
        }
        return out;
    }

    /** A string, or text parts joined by newlines (vLLM's convention); null only for assistant turns. */
    private static String content(Object value, String role, String path) {
        if (value == null) {
            if (role.equals("assistant")) return "";
            throw ApiException.invalid(path, "'" + path + "' is required");
        }
        if (value instanceof String s) return s;
        if (!(value instanceof JsonArray parts)) throw ApiException.invalid(path, "'" + path + "' must be a string or an array of content parts, got " + typeName(value));
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < parts.size(); i++) {
            String partPath = path + "[" + i + "]";
            if (!(parts.getValue(i) instanceof JsonObject part)) throw ApiException.invalid(partPath, "'" + partPath + "' must be an object");
            Fields f = new Fields(part, partPath + ".");
            String type = f.string("type");
            if (type == null) throw ApiException.invalid(partPath + ".type", "'" + partPath + ".type' is required");
            if (!type.equals("text"))
                throw ApiException.unsupported(partPath + ".type", "Content part type '" + type + "' is not supported; only 'text' is");
            String partText = f.string("text");
            if (partText == null) throw ApiException.invalid(partPath + ".text", "'" + partPath + ".text' is required");
            if (i > 0) text.append('\n');
            text.append(partText);
        }
        return text.toString();
    }

    private static Prompt prompt(Object value) {
        if (value == null) throw ApiException.invalid("prompt", "'prompt' is required");
        if (value instanceof String s) return new Prompt.Text(s);
        if (!(value instanceof JsonArray array)) throw ApiException.invalid("prompt", "'prompt' must be a string or an array of token ids, got " + typeName(value));
        if (array.isEmpty()) throw ApiException.invalid("prompt", "'prompt' must not be an empty array");
        Object first = array.getValue(0);
        if (first instanceof String || first instanceof JsonArray) {
            if (array.size() > 1) throw ApiException.unsupported("prompt", "Only one prompt per request is supported, got " + array.size());
            return first instanceof String s ? new Prompt.Text(s) : prompt(first);
        }
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            Object v = array.getValue(i);
            if (!isIntegral(v)) throw ApiException.invalid("prompt", "'prompt[" + i + "]' must be a token id (integer), got " + typeName(v));
            long id = ((Number) v).longValue();
            if (id < 0 || id > Integer.MAX_VALUE) throw ApiException.invalid("prompt", "'prompt[" + i + "]' is not a valid token id: " + v);
            ids[i] = (int) id;
        }
        return new Prompt.TokenIds(ids);
    }

    private static List<String> stop(Object value) {
        if (value == null) return List.of();
        List<String> stops = new ArrayList<>();
        if (value instanceof String s) {
            stops.add(s);
        } else if (value instanceof JsonArray array) {
            if (array.size() > MAX_STOP_STRINGS) throw ApiException.invalid("stop", "'stop' may hold at most " + MAX_STOP_STRINGS + " strings, got " + array.size());
            for (int i = 0; i < array.size(); i++) {
                if (!(array.getValue(i) instanceof String s)) throw ApiException.invalid("stop", "'stop[" + i + "]' must be a string");
                stops.add(s);
            }
        } else {
            throw ApiException.invalid("stop", "'stop' must be a string or an array of strings, got " + typeName(value));
        }
        for (String s : stops) if (s.isEmpty()) throw ApiException.invalid("stop", "Stop strings must not be empty");
        return stops;
    }

    static boolean isIntegral(Object v) {
        return v instanceof Integer || v instanceof Long || v instanceof BigInteger || v instanceof Short || v instanceof Byte
                || (v instanceof Double d && d == Math.rint(d) && !d.isInfinite())
                || (v instanceof Float fl && fl == Math.rint(fl) && !fl.isInfinite())
                || (v instanceof BigDecimal b && b.stripTrailingZeros().scale() <= 0);
    }

    static String typeName(Object v) {
        if (v == null) return "null";
        if (v instanceof String) return "a string";
        if (v instanceof Boolean) return "a boolean";
        if (v instanceof Number) return "a number";
        if (v instanceof JsonArray) return "an array";
        if (v instanceof JsonObject) return "an object";
        return v.getClass().getSimpleName();
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Typed, null-tolerant access to one JSON object's fields; errors name "prefix + field". */
    private record Fields(JsonObject json, String prefix) {
        Fields(JsonObject json) {
            this(json, "");
        }

        private ApiException wrongType(String name, String expected, Object got) {
            return ApiException.invalid(prefix + name, "'" + prefix + name + "' must be " + expected + ", got " + typeName(got));
        }

        String string(String name) {
            Object v = json.getValue(name);
            if (v == null || v instanceof String) return (String) v;
            throw wrongType(name, "a string", v);
        }

        Boolean bool(String name) {
            Object v = json.getValue(name);
            if (v == null || v instanceof Boolean) return (Boolean) v;
            throw wrongType(name, "a boolean", v);
        }

        JsonObject object(String name) {
            Object v = json.getValue(name);
            if (v == null || v instanceof JsonObject) return (JsonObject) v;
            throw wrongType(name, "an object", v);
        }

        JsonArray array(String name) {
            Object v = json.getValue(name);
            if (v == null || v instanceof JsonArray) return (JsonArray) v;
            throw wrongType(name, "an array", v);
        }

        Integer integer(String name) {
            Long v = int64(name);
            if (v == null) return null;
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw ApiException.invalid(prefix + name, "'" + prefix + name + "' is out of range: " + v);
            return v.intValue();
        }

        Long int64(String name) {
            Object v = json.getValue(name);
            if (v == null) return null;
            if (!isIntegral(v)) throw wrongType(name, "an integer", v);
            if (v instanceof BigInteger b && b.bitLength() > 63 || v instanceof BigDecimal d && d.toBigInteger().bitLength() > 63)
                throw ApiException.invalid(prefix + name, "'" + prefix + name + "' does not fit in 64 bits");
            if (v instanceof Double d && (d >= 0x1p63 || d < -0x1p63))
                throw ApiException.invalid(prefix + name, "'" + prefix + name + "' does not fit in 64 bits");
            return ((Number) v).longValue();
        }

        /** A number in [min, max] (bounds inclusive as flagged), or the default when absent. */
        double number(String name, double def, double min, double max, boolean minInclusive, boolean maxInclusive) {
            Object v = json.getValue(name);
            if (v == null) return def;
            if (!(v instanceof Number num)) throw wrongType(name, "a number", v);
            double d = num.doubleValue();
            boolean ok = !Double.isNaN(d) && (minInclusive ? d >= min : d > min) && (maxInclusive ? d <= max : d < max);
            if (!ok) {
                String range = (minInclusive ? "[" : "(") + fmt(min) + ", " + fmt(max) + (maxInclusive ? "]" : ")");
                throw ApiException.invalid(prefix + name, "'" + prefix + name + "' must be in " + range + ", got " + num);
            }
            return d;
        }

        private static String fmt(double d) {
            return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
        }
    }
}
