package io.tandem.launcher;

/**
 * A tiny program that starts like worker.jar and gateway.jar do: it calls {@link JvmRelaunch} first, then reports
 * what it got. {@code exit N} exits with N; {@code wait} prints its pid and runs until stopped; {@code drain} stops
 * through {@link StopSignals} (prints "probe drained", exit 0), {@code drain-stuck} with a stop that never returns
 * (bounded at 2 s).
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
            case "drain", "drain-stuck" -> {
                boolean stuck = args[0].equals("drain-stuck");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    System.out.println("probe stopping");
                    System.out.flush();
                }));
                StopSignals.install("probe", java.time.Duration.ofSeconds(2), () -> {
                    if (stuck) new java.util.concurrent.CountDownLatch(1).await();
                    System.out.println("probe drained");
                    System.out.flush();
                    return 0;
                });
                System.out.println("probe installed");
                System.out.flush();
                Thread.currentThread().join();
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }
}
