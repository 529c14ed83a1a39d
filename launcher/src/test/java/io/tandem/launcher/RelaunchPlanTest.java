package io.tandem.launcher;

import io.tandem.launcher.RelaunchPlan.Jvm;
import io.tandem.launcher.RelaunchPlan.Relaunch;
import io.tandem.launcher.RelaunchPlan.Stay;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RelaunchPlanTest {
    private static final String[] ARGS = {"-cluster", "--port", "8100", "a b"};

    /** {@code java -Xmx1g -jar worker.jar …} without the module. */
    private static Jvm jarLaunch() {
        return new Jvm(false, true, false, null, null, "/jdk/bin/java", "/jdk", List.of("-Xmx1g", "-Dx=y"),
                "target/worker.jar", "target/worker.jar -cluster --port 8100 a b", "io.tandem.worker.WorkerMain");
    }

    private static Jvm with(Jvm j, boolean loaded, boolean inRuntime, boolean relaunched, String env, String prop) {
        return new Jvm(loaded, inRuntime, relaunched, env, prop, j.javaCommand(), j.javaHome(), j.jvmArguments(),
                j.classPath(), j.javaCommandLine(), j.mainClass());
    }

    @Test
    void aJarLaunchIsRepeatedWithTheModuleTheSameJarAndArguments() {
        Relaunch r = assertInstanceOf(Relaunch.class, RelaunchPlan.decide(jarLaunch(), ARGS, 42));
        assertEquals(List.of("/jdk/bin/java", "-Xmx1g", "-Dx=y", "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-Dtandem.relaunched=true", "-jar", "target/worker.jar",
                "-cluster", "--port", "8100", "a b"), r.command());
        assertEquals(Map.of("TANDEM_RELAUNCH_PARENT_PID", "42"), r.setEnv());
        assertEquals(List.of("JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS"), r.removeEnv(), "their options are in the input arguments already");
    }

    @Test
    void aClassPathLaunchKeepsTheClassPathAndMainClass() {
        Jvm j = new Jvm(false, true, false, null, null, null, "/jdk", List.of(), "a.jar:b", "io.tandem.X --help",
                "io.tandem.X");
        Relaunch r = assertInstanceOf(Relaunch.class, RelaunchPlan.decide(j, new String[] {"--help"}, 1));
        assertEquals(List.of("/jdk/bin/java", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Dtandem.relaunched=true", "-cp", "a.jar:b", "io.tandem.X", "--help"), r.command(),
                "without the OS's word for the binary, java.home's java runs");
    }

    @Test
    void itStaysWhenTheModuleIsThereOrCannotBeOrWhenTurnedOff() {
        Jvm j = jarLaunch();
        assertInstanceOf(Stay.class, RelaunchPlan.decide(with(j, true, true, false, null, null), ARGS, 1));
        assertTrue(((Stay) RelaunchPlan.decide(with(j, false, false, false, null, null), ARGS, 1)).why().contains("no jdk.incubator.vector"));
        assertTrue(((Stay) RelaunchPlan.decide(with(j, false, true, true, null, null), ARGS, 1)).why().contains("already relaunched"));
        for (String off : List.of("0", "false", "OFF", "no")) {
            assertInstanceOf(Stay.class, RelaunchPlan.decide(with(j, false, true, false, off, null), ARGS, 1), off);
            assertInstanceOf(Stay.class, RelaunchPlan.decide(with(j, false, true, false, null, off), ARGS, 1), off);
        }
        assertInstanceOf(Relaunch.class, RelaunchPlan.decide(with(j, false, true, false, "1", "true"), ARGS, 1));
    }
}
