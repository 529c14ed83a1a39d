package io.tandem.gateway.soak;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JVM's Java threads grouped by name with the numbers taken out ({@code vert.x-eventloop-thread-#}), from a
 * {@code jcmd <pid> Thread.print} dump: when the live thread count grows, the groups that grew say whether a pool
 * filled up or something leaks a thread per request.
 */
public final class ThreadNames {
    /** A Java thread's header line: {@code "name" #id ...} (VM-internal threads have no {@code #id}). */
    private static final Pattern JAVA_THREAD = Pattern.compile("^\"(.*)\" #\\d+", Pattern.MULTILINE);

    private ThreadNames() {
    }

    /** A Hazelcast thread: {@code hz.<instance name>.<pool>}; the instance name is random per JVM. */
    private static final Pattern HAZELCAST = Pattern.compile("^hz\\.([^.]+)\\.");

    /**
     * The dump's Java threads, counted by name pattern: digits become {@code #} and the JVM's Hazelcast instance
     * name (random, {@code hz.<name>.…} and {@code <name>-…}) becomes {@code <hz>}, so two JVMs compare.
     */
    public static Map<String, Integer> groups(String threadDump) {
        List<String> names = new ArrayList<>();
        Matcher m = JAVA_THREAD.matcher(threadDump);
        while (m.find()) names.add(m.group(1));
        List<String> instances = names.stream().map(HAZELCAST::matcher).filter(Matcher::find).map(h -> h.group(1)).distinct().toList();
        Map<String, Integer> groups = new TreeMap<>();
        for (String name : names) {
            for (String instance : instances) name = name.replace(instance, "<hz>");
            groups.merge(name.replaceAll("\\d+", "#"), 1, Integer::sum);
        }
        return groups;
    }

    /** The groups with more threads in {@code end} than in {@code start}, as {@code +2 name} (empty when none grew). */
    public static List<String> grown(Map<String, Integer> start, Map<String, Integer> end) {
        List<String> grown = new ArrayList<>();
        end.forEach((name, n) -> {
            int before = start.getOrDefault(name, 0);
            if (n > before) grown.add("+" + (n - before) + " " + name);
        });
        return grown;
    }
}
