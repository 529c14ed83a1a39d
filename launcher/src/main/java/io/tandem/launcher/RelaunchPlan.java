package io.tandem.launcher;

import java.lang.management.ManagementFactory;
import java.lang.module.ModuleFinder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Whether this JVM must be started again with the Vector API, and with what command line: pure logic over the facts
 * of the running JVM ({@link Jvm}), so that every case is testable without starting processes.
 */
public final class RelaunchPlan {
    /** The module the CPU kernels need; no manifest attribute can add it, only the command line. */
    public static final String VECTOR_MODULE = "jdk.incubator.vector";
    /** Flags the relaunched JVM gets on top of the original ones. */
    public static final List<String> ADDED_FLAGS = List.of("--add-modules", VECTOR_MODULE, "--enable-native-access=ALL-UNNAMED");
    /** {@code TANDEM_RELAUNCH=0} (or false/no/off) in the environment stays in this JVM. */
    public static final String SWITCH_ENV = "TANDEM_RELAUNCH";
    /** {@code -Dtandem.relaunch=false} stays in this JVM. */
    public static final String SWITCH_PROPERTY = "tandem.relaunch";
    /** Set on the relaunched JVM: it never relaunches again, and it watches its parent. */
    public static final String MARKER_PROPERTY = "tandem.relaunched";
    /** The parent's pid, in the relaunched JVM's environment. */
    public static final String PARENT_PID_ENV = "TANDEM_RELAUNCH_PARENT_PID";
    /**
     * Variables whose options the JVM already lists among its input arguments, which the relaunched JVM gets
     * explicitly: left in its environment, they would apply twice.
     */
    public static final List<String> CONSUMED_ENV = List.of("JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS");

    private RelaunchPlan() {
    }

    /**
     * What decides a relaunch.
     *
     * @param moduleLoaded     the boot layer has {@link #VECTOR_MODULE}
     * @param runtimeHasModule the Java runtime ships it ({@code ModuleFinder.ofSystem()})
     * @param relaunched       this JVM is itself a relaunch ({@link #MARKER_PROPERTY})
     * @param switchEnv        {@link #SWITCH_ENV}, or null
     * @param switchProperty   {@link #SWITCH_PROPERTY}, or null
     * @param javaCommand      the running java binary, or null when the OS does not say
     * @param javaHome         {@code java.home}
     * @param jvmArguments     the JVM's input arguments (options before the class or jar)
     * @param classPath        {@code java.class.path}
     * @param javaCommandLine  {@code sun.java.command}: the jar or main class, then the program arguments
     * @param mainClass        the class whose {@code main} runs
     */
    public record Jvm(boolean moduleLoaded, boolean runtimeHasModule, boolean relaunched, String switchEnv,
                      String switchProperty, String javaCommand, String javaHome, List<String> jvmArguments,
                      String classPath, String javaCommandLine, String mainClass) {

        /** The facts of this JVM. */
        public static Jvm current(Class<?> mainClass) {
            return new Jvm(ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent(),
                    ModuleFinder.ofSystem().find(VECTOR_MODULE).isPresent(),
                    Boolean.getBoolean(MARKER_PROPERTY),
                    System.getenv(SWITCH_ENV), System.getProperty(SWITCH_PROPERTY),
                    ProcessHandle.current().info().command().orElse(null), System.getProperty("java.home"),
                    ManagementFactory.getRuntimeMXBean().getInputArguments(),
                    System.getProperty("java.class.path", ""), System.getProperty("sun.java.command", ""),
                    mainClass.getName());
        }
    }

    /** Stay in this JVM, or start another. */
    public sealed interface Decision {
    }

    /** @param why for logs and tests */
    public record Stay(String why) implements Decision {
    }

    /**
     * @param command   the relaunched JVM's command line
     * @param setEnv    variables to set in its environment
     * @param removeEnv variables to remove from it
     */
    public record Relaunch(List<String> command, Map<String, String> setEnv, List<String> removeEnv) implements Decision {
    }

    /**
     * @param args      the program's arguments, passed on unchanged
     * @param parentPid this process's pid, for the child to watch
     */
    public static Decision decide(Jvm jvm, String[] args, long parentPid) {
        if (jvm.moduleLoaded()) return new Stay(VECTOR_MODULE + " is loaded");
        if (jvm.relaunched()) return new Stay("already relaunched once");
        if (disabled(jvm.switchEnv())) return new Stay("disabled by " + SWITCH_ENV + "=" + jvm.switchEnv());
        if (disabled(jvm.switchProperty())) return new Stay("disabled by -D" + SWITCH_PROPERTY + "=" + jvm.switchProperty());
        if (!jvm.runtimeHasModule()) return new Stay("this Java runtime has no " + VECTOR_MODULE + " module");
        String java = jvm.javaCommand() != null ? jvm.javaCommand() : Path.of(jvm.javaHome(), "bin", "java").toString();
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(jvm.jvmArguments());
        command.addAll(ADDED_FLAGS);
        command.add("-D" + MARKER_PROPERTY + "=true");
        if (launchedWithJar(jvm)) {
            // -jar keeps the manifest's Add-Opens and Enable-Native-Access, which -cp would drop
            command.addAll(List.of("-jar", jvm.classPath()));
        } else {
            command.addAll(List.of("-cp", jvm.classPath(), jvm.mainClass()));
        }
        command.addAll(List.of(args));
        return new Relaunch(List.copyOf(command), Map.of(PARENT_PID_ENV, Long.toString(parentPid)), CONSUMED_ENV);
    }

    /** {@code java -jar X.jar}: the class path is that one jar and the command line starts with it. */
    static boolean launchedWithJar(Jvm jvm) {
        String cp = jvm.classPath();
        String line = jvm.javaCommandLine();
        return cp.endsWith(".jar") && !cp.contains(java.io.File.pathSeparator)
                && (line.equals(cp) || line.startsWith(cp + " "));
    }

    private static boolean disabled(String value) {
        if (value == null) return false;
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "0", "false", "no", "off" -> true;
            default -> false;
        };
    }

    /** The flags to add by hand when relaunching is off: for messages. */
    public static String addedFlags() {
        return String.join(" ", ADDED_FLAGS);
    }

    static Optional<Long> parsePid(String text) {
        if (text == null || text.isBlank()) return Optional.empty();
        try {
            return Optional.of(Long.parseLong(text.trim()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
