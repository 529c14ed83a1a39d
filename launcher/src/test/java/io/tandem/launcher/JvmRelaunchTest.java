package io.tandem.launcher;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The relaunch as processes: {@link RelaunchProbe} started with a plain {@code java -cp} (no JVM flags), as a user
 * starts the jars. The probe's output goes to a file that the relaunched JVM writes too.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class JvmRelaunchTest {
    private static final Pattern PROBE = Pattern.compile("probe pid=(\\d+) vector=(\\w+)");
    private final List<Process> started = new ArrayList<>();
    /** Relaunched JVMs seen, killed after each test should one outlive its parent (a failing test). */
    private final List<ProcessHandle> children = new ArrayList<>(); // a handle checks start times: no reused pid is hit
    @TempDir
    Path dir;

    @AfterEach
    void killLeftovers() {
        for (Process p : started) p.descendants().forEach(ProcessHandle::destroyForcibly);
        started.forEach(Process::destroyForcibly);
        children.forEach(ProcessHandle::destroyForcibly);
    }

    private Process start(Path log, Map<String, String> env, List<String> jvmFlags, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElseThrow());
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("-cp", classPath(), RelaunchProbe.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        for (String v : List.of(RelaunchPlan.SWITCH_ENV, "JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS", RelaunchPlan.PARENT_PID_ENV)) {
            pb.environment().remove(v);
        }
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    /** The launcher's classes and the probe's, as directories (surefire's own class path is a manifest jar). */
    private static String classPath() throws URISyntaxException {
        return Path.of(JvmRelaunch.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                + java.io.File.pathSeparator
                + Path.of(RelaunchProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** Waits (bounded) until the log shows the probe's line; returns its match. */
    private Matcher awaitProbe(Path log, Process p) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = PROBE.matcher(read(log));
            if (m.find()) {
                ProcessHandle.of(Long.parseLong(m.group(1))).filter(h -> h.pid() != p.pid()).ifPresent(children::add);
                return m;
            }
            if (!p.isAlive()) break;
            Thread.sleep(50);
        }
        throw new AssertionError("no probe line; alive=" + p.isAlive() + ", log:\n" + read(log));
    }

    @Test
    void aPlainJavaCommandRunsWithTheVectorModuleAndTheChildsExitCode() throws Exception {
        Path log = dir.resolve("exit.log");
        Process p = start(log, Map.of(), List.of(), "exit", "7");
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(7, p.exitValue(), read(log));
        String out = read(log);
        assertTrue(out.contains("probe: restarting java with --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED"), out);
        assertTrue(out.contains("TANDEM_RELAUNCH=0"), "the log line says how to opt out:\n" + out);
        assertEquals("true", awaitProbe(log, p).group(2), out);
        assertNotEquals(Long.toString(p.pid()), awaitProbe(log, p).group(1), "the program ran in another JVM");
    }

    @Test
    void theOptOutsKeepTheFirstJvm() throws Exception {
        Path envLog = dir.resolve("env.log"), propLog = dir.resolve("prop.log");
        Process byEnv = start(envLog, Map.of(RelaunchPlan.SWITCH_ENV, "0"), List.of(), "exit", "3");
        Process byProp = start(propLog, Map.of(), List.of("-D" + RelaunchPlan.SWITCH_PROPERTY + "=false"), "exit", "4");
        assertTrue(byEnv.waitFor(60, TimeUnit.SECONDS) && byProp.waitFor(60, TimeUnit.SECONDS));
        assertEquals(3, byEnv.exitValue());
        assertEquals(4, byProp.exitValue());
        for (Path log : List.of(envLog, propLog)) {
            String out = read(log);
            assertFalse(out.contains("restarting java"), out);
            assertTrue(out.contains("vector=false"), out);
        }
        assertTrue(read(envLog).contains("probe pid=" + byEnv.pid() + " "), "ran in the first JVM");
    }

    @Test
    void jvmOptionsFromTheEnvironmentArePassedOnOnce() throws Exception {
        Path log = dir.resolve("opts.log");
        Process p = start(log, Map.of("JDK_JAVA_OPTIONS", "-Dprobe.flag=from-env"), List.of(), "exit", "0");
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String out = read(log);
        assertTrue(out.contains("vector=true JDK_JAVA_OPTIONS=null probe.flag=from-env"), out);
    }

    @Test
    void sigtermToTheParentStopsTheChildCleanlyAndLeavesNoOrphan() throws Exception {
        Path log = dir.resolve("term.log");
        Process parent = start(log, Map.of(), List.of(), "wait");
        long child = Long.parseLong(awaitProbe(log, parent).group(1));
        assertNotEquals(parent.pid(), child);
        parent.destroy(); // SIGTERM
        assertTrue(parent.waitFor(60, TimeUnit.SECONDS), "the parent exits once the child has");
        assertEquals(143, parent.exitValue(), "the child's exit code after SIGTERM comes through");
        assertFalse(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false), "child " + child + " is gone");
        assertTrue(read(log).contains("probe stopping"), "the child ran its shutdown hooks:\n" + read(log));
    }

    @Test
    void aChildWhoseParentIsKilledStopsByItself() throws Exception {
        Path log = dir.resolve("kill.log");
        Process parent = start(log, Map.of(), List.of(), "wait");
        long child = Long.parseLong(awaitProbe(log, parent).group(1));
        parent.destroyForcibly(); // SIGKILL: nothing is passed on
        assertTrue(parent.waitFor(30, TimeUnit.SECONDS));
        ProcessHandle handle = ProcessHandle.of(child).orElse(null);
        if (handle != null) handle.onExit().get(60, TimeUnit.SECONDS);
        assertFalse(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false), "child " + child + " is gone");
        String out = read(log);
        assertTrue(out.contains("is gone; stopping") && out.contains("probe stopping"), out);
    }
    @Test
    void sigtermToTheParentDrainsTheChildFirstAndExitsZero() throws Exception {
        Path log = dir.resolve("drain.log");
        Process parent = start(log, Map.of(), List.of(), "drain");
        long child = Long.parseLong(awaitProbe(log, parent).group(1));
        assertNotEquals(parent.pid(), child);
        awaitLine(log, parent, "probe installed");
        parent.destroy(); // SIGTERM
        assertTrue(parent.waitFor(60, TimeUnit.SECONDS), "the parent exits once the child has");
        String out = read(log);
        assertEquals(0, parent.exitValue(), "a clean drain exits 0 through both JVMs:\n" + out);
        assertTrue(out.contains("probe drained") && out.indexOf("probe drained") < out.indexOf("probe stopping"),
                "the drain runs before the shutdown hooks:\n" + out);
        assertFalse(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false), "child " + child + " is gone");
    }

    @Test
    void aStopThatHangsIsBoundedAndExitsOne() throws Exception {
        Path log = dir.resolve("stuck.log");
        Process p = start(log, Map.of(RelaunchPlan.SWITCH_ENV, "0"), List.of(), "drain-stuck");
        awaitLine(log, p, "probe installed");
        p.destroy(); // SIGTERM, straight to the program's JVM
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String out = read(log);
        assertEquals(1, p.exitValue(), out);
        assertTrue(out.contains("probe: did not stop within 2 s; halting") && !out.contains("probe drained"), out);
    }

    private void awaitLine(Path log, Process p, String line) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline && p.isAlive()) {
            if (read(log).contains(line)) return;
            Thread.sleep(50);
        }
        throw new AssertionError("no line '" + line + "'; alive=" + p.isAlive() + ", log:\n" + read(log));
    }
}
