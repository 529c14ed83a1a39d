package io.tandem.gateway.router;

import java.util.Locale;

/** How the gateway picks among the live workers of a model. */
public enum RouterMode {
    /** Lowest cost of prefilling what the worker has not cached plus the load it carries (the default). */
    KV("kv"),
    ROUND_ROBIN("round-robin"),
    RANDOM("random"),
    LEAST_LOADED("least-loaded");

    private final String flag;

    RouterMode(String flag) {
        this.flag = flag;
    }

    public String flag() {
        return flag;
    }

    public static RouterMode parse(String s) {
        String v = s.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (RouterMode m : values()) if (m.flag.equals(v)) return m;
        throw new IllegalArgumentException("unknown router mode '" + s + "' (expected kv, round-robin, random or least-loaded)");
    }

    @Override
    public String toString() {
        return flag;
    }
}
