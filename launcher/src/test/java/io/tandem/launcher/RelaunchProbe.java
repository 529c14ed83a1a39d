package io.tandem.launcher;

/**
 * A tiny program that starts like worker.jar and gateway.jar do: it calls {@link JvmRelaunch} first, then reports
 * what it got. {@code exit N} exits with N; {@code wait} prints its pid and runs until stopped.
 */
public final class RelaunchProbe {
    private RelaunchProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        JvmRelaunch.relaunchIfNeeded("probe", RelaunchProbe.class, args);
        boolean vector = ModuleLayer.boot().findModule(RelaunchPlan.VECTOR_MODULE).isPresent();
        System.out.println("probe pid=" + ProcessHandle.current().pid() + " vector=" + vector
                + " JDK_JAVA_OPTIONS=" + System.getenv("JDK_JAVA_OPTIONS") + " probe.flag=" + System.getProperty("probe.flag"));
        System.out.flush();
        switch (args[0]) {
            case "exit" -> System.exit(Integer.parseInt(args[1]));
            case "wait" -> {
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    System.out.println("probe stopping");
                    System.out.flush();
                }));
                Thread.currentThread().join(); // until a signal ends the JVM
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }
}
