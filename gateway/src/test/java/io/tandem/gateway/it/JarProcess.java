package io.tandem.gateway.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A Tandem jar started as its own JVM (`java -jar …`), output captured in a log file. */
final class JarProcess implements AutoCloseable {
    private final String name;
    private final Process process;
    private final Path log;

    private JarProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    static JarProcess start(String name, Path jar, Path logDir, List<String> jvmProps, List<String> args)
            throws IOException {
        return start(name, jar, logDir, jvmProps, args, java.util.Map.of());
    }

    /** With {@code env} added to (or, for null values, removed from) the process's environment. */
    static JarProcess start(String name, Path jar, Path logDir, List<String> jvmProps, List<String> args,
                            java.util.Map<String, String> env) throws IOException {
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: build the jars first (./tandem build)");
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx384m",
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"));
        cmd.addAll(jvmProps);
        cmd.add("-jar");
        cmd.add(jar.toString());
        cmd.addAll(args);
        Files.createDirectories(logDir);
        Path log = logDir.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        env.forEach((k, v) -> {
            if (v == null) pb.environment().remove(k);
            else pb.environment().put(k, v);
        });
        Process p = pb.start();
        return new JarProcess(name, p, log);
    }

    boolean isAlive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    /** SIGTERM, as Kubernetes or docker stop send it: the process drains and exits by itself (see its exitValue). */
    void terminate() {
        process.destroy();
    }

    int exitValue() {
        return process.exitValue();
    }

    /** SIGKILL: no shutdown hook runs, the member just vanishes. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    String describe() {
        return "---- " + name + " (pid " + process.pid() + ", alive=" + process.isAlive() + ") ----\n" + output();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }
}
