package io.tandem.gateway.it.netns;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * "Hosts" on one machine, as a container runtime makes them: each host is a network namespace with its own IP on a
 * bridge, a veth into it, {@code lo} up, and an {@code /etc/hosts} in which every host's name resolves to its IP
 * (iproute2 bind-mounts {@code /etc/netns/<ns>/hosts} over {@code /etc/hosts} for {@code ip netns exec}). The bridge
 * also has an address in this (the root) namespace, so the test reaches every host at {@link #ip}. Processes run with
 * their own hostname ({@code unshare --uts}). Namespaces get no default route: a host reaches the bridge's subnet only.
 *
 * <p>Needs root, {@code ip} and {@code unshare}: {@link #create} makes the calling test SKIP (a JUnit assumption, with
 * the reason printed) when it cannot build hosts here, never pass silently or fail.
 *
 * <p>Everything a run creates is named after it: namespaces {@code tandem-it-<pid>-<token>-<host>} (and their
 * {@code /etc/netns} directories), links {@code tdn<token>…} whose alias is {@code tandem-it pid=<pid>}. Runs in
 * parallel do not collide, {@link #close} removes what the run made, and {@link #create} first sweeps what runs whose
 * JVM is gone (crashed, killed) left behind.
 */
public final class NetnsHosts implements AutoCloseable {
    private static final String NS_PREFIX = "tandem-it-";
    private static final Pattern OUR_NAMESPACE = Pattern.compile(Pattern.quote(NS_PREFIX) + "(\\d+)-[a-z0-9]+-.+");
    private static final String ALIAS_PREFIX = "tandem-it pid=";
    /** {@code ip -o link} lines: "7: name@peer: <...> ... alias tandem-it pid=123". */
    private static final Pattern OUR_LINK = Pattern.compile("^\\d+: ([^:@\\s]+)[@:].*\\balias " + Pattern.quote(ALIAS_PREFIX) + "(\\d+)");
    private static final Path ETC_NETNS = Path.of("/etc/netns");

    /** One host: its name (hostname and DNS name), namespace, IP, and the veth end left in the root namespace. */
    public record Host(String name, String namespace, String ip, String rootVeth) {
    }

    private final long pid = ProcessHandle.current().pid();
    private final String token = token();
    private final String bridge = "tdn" + token + "br";
    private final String subnet;
    private final Map<String, Host> hosts = new LinkedHashMap<>();
    private final List<HostProcess> processes = Collections.synchronizedList(new ArrayList<>());
    private final Path logDir;
    private final Path ip;
    private final Thread shutdownHook = Thread.ofPlatform().unstarted(this::closeQuietly);
    private volatile boolean closed;

    private NetnsHosts(Path logDir, Path ip) {
        this.logDir = logDir;
        this.ip = ip;
        this.subnet = freeSubnet(ip);
    }

    /**
     * Builds the bridge and one host per name (IPs .2, .3, … in a fresh 10.X.Y.0/24; the root namespace gets .1), or
     * skips the test when this machine does not let it (not root, no {@code ip}/{@code unshare}, namespaces refused).
     */
    public static NetnsHosts create(Path logDir, String... names) {
        assumeSupported();
        Path ip = Commands.which("ip").orElseThrow();
        sweepLeftovers(ip);
        NetnsHosts hosts = new NetnsHosts(logDir, ip);
        Runtime.getRuntime().addShutdownHook(hosts.shutdownHook);
        try {
            hosts.build(names);
        } catch (RuntimeException | Error e) { // a skip (TestAbortedException) included: nothing stays behind
            hosts.closeQuietly();
            hosts.removeShutdownHook();
            throw e;
        }
        return hosts;
    }

    /**
     * Skips the calling test, with the reason printed, when this machine visibly cannot build hosts (not Linux, not
     * root, no {@code ip}, {@code unshare} or {@code hostname}). {@link #create} checks this too, and also skips when
     * the kernel refuses the first namespace, bridge or veth.
     */
    public static void assumeSupported() {
        String missing = missingCapability(Commands.which("ip").orElse(null));
        if (missing != null) skip(missing);
    }

    public Host host(String name) {
        Host h = hosts.get(name);
        if (h == null) throw new IllegalArgumentException("no host " + name + " (hosts: " + hosts.keySet() + ")");
        return h;
    }

    /** The host's IP on the bridge, reachable from the test JVM. */
    public String ip(String host) {
        return host(host).ip();
    }

    /** The root namespace's (the test JVM's) address on the bridge. */
    public String rootIp() {
        return subnet + "1";
    }

    public Path logDir() {
        return logDir;
    }

    /**
     * Starts {@code command} inside {@code host}, with that hostname, in {@code workDir}, its output in
     * {@code <logDir>/<name>.log}. The environment is this JVM's without {@code TANDEM_*} and {@code UCX_*} (a host
     * starts clean, like a container), plus {@code env}.
     */
    public HostProcess start(String host, String name, List<String> command, Map<String, String> env, Path workDir)
            throws IOException {
        if (closed) throw new IllegalStateException("closed");
        Files.createDirectories(logDir);
        Path log = logDir.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(inHost(host, command)).directory(workDir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().keySet().removeIf(k -> k.startsWith("TANDEM_") || k.startsWith("UCX_"));
        pb.environment().putAll(env);
        HostProcess p = new HostProcess(name, host, pb.start(), log);
        processes.add(p);
        return p;
    }

    /** Runs a short command inside {@code host} (with its hostname) to completion, bounded. */
    public Commands.Result run(String host, String... command) {
        return Commands.run(inHost(host, List.of(command)));
    }

    /** Every started process's log, for failure messages. */
    public String logs() {
        StringBuilder sb = new StringBuilder();
        synchronized (processes) {
            for (HostProcess p : processes) sb.append(p.describe()).append('\n');
        }
        return sb.toString();
    }

    private List<String> inHost(String host, List<String> command) {
        Host h = host(host);
        List<String> cmd = new ArrayList<>(List.of(ip.toString(), "netns", "exec", h.namespace(),
                "unshare", "--uts", "sh", "-c", "hostname \"$0\" && exec \"$@\"", h.name()));
        cmd.addAll(command);
        return cmd;
    }

    // ---- building -----------------------------------------------------------------------------

    private void build(String... names) {
        if (names.length == 0 || names.length > 200) throw new IllegalArgumentException("1..200 hosts, got " + names.length);
        String alias = ALIAS_PREFIX + pid;
        // the bridge and the first host double as the capability probe: a refusal there means "cannot run here"
        probe(ipCmd("link", "add", bridge, "type", "bridge"));
        probe(ipCmd("link", "set", "dev", bridge, "alias", alias));
        probe(ipCmd("addr", "add", rootIp() + "/24", "dev", bridge));
        probe(ipCmd("link", "set", bridge, "up"));
        for (int i = 0; i < names.length; i++) {
            Host h = new Host(names[i], NS_PREFIX + pid + "-" + token + "-" + names[i], subnet + (i + 2), "tdn" + token + "v" + i);
            String peer = "tdn" + token + "p" + i;
            hosts.put(h.name(), h);
            boolean first = i == 0;
            step(first, ipCmd("netns", "add", h.namespace()));
            step(first, ipCmd("link", "add", h.rootVeth(), "type", "veth", "peer", "name", peer));
            step(first, ipCmd("link", "set", "dev", h.rootVeth(), "alias", alias));
            step(first, ipCmd("link", "set", peer, "netns", h.namespace()));
            step(first, ipCmd("-n", h.namespace(), "link", "set", peer, "name", "eth0"));
            step(first, ipCmd("-n", h.namespace(), "addr", "add", h.ip() + "/24", "dev", "eth0"));
            step(first, ipCmd("-n", h.namespace(), "link", "set", "eth0", "up"));
            step(first, ipCmd("-n", h.namespace(), "link", "set", "lo", "up"));
            step(first, ipCmd("link", "set", h.rootVeth(), "master", bridge));
            step(first, ipCmd("link", "set", h.rootVeth(), "up"));
        }
        writeHostsFiles();
        Host first = hosts.values().iterator().next();
        Commands.Result uts = run(first.name(), "hostname");
        if (!uts.ok() || !uts.output().strip().equals(first.name())) {
            skip("cannot give a namespace its own hostname (ip netns exec … unshare --uts): " + uts);
        }
    }

    private void writeHostsFiles() {
        StringBuilder table = new StringBuilder("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        for (Host h : hosts.values()) table.append(h.ip()).append('\t').append(h.name()).append('\n');
        for (Host h : hosts.values()) {
            try {
                Path dir = ETC_NETNS.resolve(h.namespace());
                Files.createDirectories(dir);
                Files.writeString(dir.resolve("hosts"), table);
            } catch (IOException e) {
                throw new IllegalStateException("cannot write " + ETC_NETNS + "/" + h.namespace() + "/hosts: " + e, e);
            }
        }
    }

    private List<String> ipCmd(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ip.toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private void probe(List<String> cmd) {
        step(true, cmd);
    }

    private static void step(boolean probing, List<String> cmd) {
        Commands.Result r = Commands.run(cmd);
        if (r.ok()) return;
        if (probing) skip("cannot build network namespaces here: " + r);
        throw new IllegalStateException("building network namespaces failed: " + r);
    }

    /** A random 10.X.Y.0/24 that no address or route of the root namespace uses yet, as "10.X.Y.". */
    private static String freeSubnet(Path ip) {
        String used = Commands.run(ip.toString(), "-o", "-4", "addr").output() + Commands.run(ip.toString(), "-4", "route").output();
        for (int attempt = 0; attempt < 100; attempt++) {
            String s = "10." + ThreadLocalRandom.current().nextInt(256) + "." + ThreadLocalRandom.current().nextInt(256) + ".";
            if (!used.contains(" " + s)) return s;
        }
        throw new IllegalStateException("no free 10.X.Y.0/24 subnet found");
    }

    private static String token() {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 5; i++) sb.append(alphabet.charAt(ThreadLocalRandom.current().nextInt(alphabet.length())));
        return sb.toString();
    }

    // ---- capability -------------------------------------------------------------------------

    /** Why this machine cannot build hosts, or null when it seems it can (creating them is the final proof). */
    static String missingCapability(Path ip) {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) return "network namespaces need Linux";
        String uid = effectiveUid();
        if (!"0".equals(uid)) return "network namespaces need root (effective uid is " + uid + ")";
        if (ip == null) return "the 'ip' command (iproute2) is not installed";
        if (Commands.which("unshare").isEmpty()) return "the 'unshare' command (util-linux) is not installed";
        if (Commands.which("hostname").isEmpty()) return "the 'hostname' command is not installed";
        Commands.Result netns = Commands.run(ip.toString(), "netns", "list");
        if (!netns.ok()) return "'ip netns' does not work here: " + netns;
        return null;
    }

    private static String effectiveUid() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/status"))) {
            return lines.filter(l -> l.startsWith("Uid:")).map(l -> l.split("\\s+")[2]).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static void skip(String reason) {
        String message = "SKIPPED: " + reason;
        System.out.println(message);
        System.err.println(message);
        Assumptions.abort(message);
    }

    // ---- cleanup ----------------------------------------------------------------------------

    /**
     * Removes what runs whose JVM no longer exists left behind: their processes, namespaces, links and
     * {@code /etc/netns} directories. Another live run's hosts are left alone.
     */
    static void sweepLeftovers(Path ip) {
        List<String> problems = new ArrayList<>();
        for (String line : Commands.run(ip.toString(), "netns", "list").output().lines().toList()) {
            String ns = line.split("\\s+")[0];
            if (isLeftover(ns)) removeNamespace(ip, ns, problems);
        }
        for (String line : Commands.run(ip.toString(), "-o", "link", "show").output().lines().toList()) {
            Matcher m = OUR_LINK.matcher(line);
            if (m.find() && !alive(Long.parseLong(m.group(2)))) removeLink(ip, m.group(1), problems);
        }
        try (Stream<Path> dirs = Files.isDirectory(ETC_NETNS) ? Files.list(ETC_NETNS) : Stream.empty()) {
            dirs.filter(d -> isLeftover(d.getFileName().toString())).forEach(d -> deleteTree(d, problems));
        } catch (IOException e) {
            problems.add("listing " + ETC_NETNS + ": " + e);
        }
        if (!problems.isEmpty()) System.err.println("NetnsHosts: sweeping earlier runs' leftovers: " + problems);
    }

    private static boolean isLeftover(String namespace) {
        Matcher m = OUR_NAMESPACE.matcher(namespace);
        return m.matches() && !alive(Long.parseLong(m.group(1)));
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    /** Ends this run's processes, then removes its namespaces, links, bridge and /etc/netns directories. */
    @Override
    public void close() {
        List<String> problems = closeQuietly();
        removeShutdownHook();
        if (!problems.isEmpty()) throw new IllegalStateException("NetnsHosts " + token + " left things behind: " + problems);
    }

    private void removeShutdownHook() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException ignored) {
            // the JVM is shutting down: the hook is what runs this
        }
    }

    private synchronized List<String> closeQuietly() {
        List<String> problems = new ArrayList<>();
        if (closed) return problems;
        closed = true;
        List<HostProcess> started;
        synchronized (processes) {
            started = new ArrayList<>(processes);
        }
        started.forEach(HostProcess::terminate); // all at once: each may take seconds to leave the cluster
        for (HostProcess p : started.reversed()) {
            try {
                p.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                problems.add("interrupted while stopping " + p.name());
            }
        }
        for (Host h : hosts.values()) {
            removeLink(ip, h.rootVeth(), problems); // takes its peer (the host's eth0) with it
            removeNamespace(ip, h.namespace(), problems);
        }
        removeLink(ip, bridge, problems);
        for (Host h : hosts.values()) deleteTree(ETC_NETNS.resolve(h.namespace()), problems);
        if (!problems.isEmpty()) System.err.println("NetnsHosts " + token + ": cleanup problems: " + problems);
        return problems;
    }

    /** Kills whatever still runs in the namespace (a namespace outlives its name while a process holds it), then deletes it. */
    private static void removeNamespace(Path ip, String ns, List<String> problems) {
        Commands.Result list = Commands.run(ip.toString(), "netns", "list");
        if (list.output().lines().noneMatch(l -> l.split("\\s+")[0].equals(ns))) return;
        Commands.Result pids = Commands.run(ip.toString(), "netns", "pids", ns);
        for (String p : pids.output().lines().map(String::strip).filter(s -> s.matches("\\d+")).toList()) {
            ProcessHandle.of(Long.parseLong(p)).ifPresent(h -> {
                h.destroyForcibly();
                try {
                    h.onExit().get(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    problems.add("pid " + p + " in " + ns + " did not die: " + e);
                }
            });
        }
        Commands.Result del = Commands.run(ip.toString(), "netns", "del", ns);
        if (!del.ok()) problems.add(del.toString());
    }

    private static void removeLink(Path ip, String link, List<String> problems) {
        Commands.Result r = Commands.run(ip.toString(), "link", "del", link);
        // gone already: a veth goes when its peer's namespace goes
        if (!r.ok() && !r.output().contains("Cannot find device")) problems.add(r.toString());
    }

    private static void deleteTree(Path dir, List<String> problems) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            problems.add("deleting " + dir + ": " + e);
        }
    }
}
