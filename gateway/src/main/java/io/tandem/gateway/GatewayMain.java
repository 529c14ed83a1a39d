package io.tandem.gateway;

import io.tandem.launcher.JvmRelaunch;
import io.tandem.launcher.StopSignals;
import io.tandem.launcher.options.CommandSpecs;
import io.tandem.launcher.options.OptionDef;
import io.tandem.launcher.options.OptionValues;
import io.tandem.launcher.options.Program;
import io.tandem.launcher.options.TandemOptions;
import io.tandem.registry.cluster.NetworkTransport;
import io.tandem.worker.ConfFile;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar gateway.jar}: the embedded all-in-one by default, a cluster member with {@code -cluster}. Its
 * options are {@link TandemOptions}' gateway options, from {@code --conf FILE} (default {@code conf/gateway.json}
 * when present) with the flags on top. {@code soak} is a subcommand ({@link io.tandem.gateway.soak.SoakCommand}).
 */
public final class GatewayMain implements Callable<Integer> {
    private static final System.Logger LOG = System.getLogger(GatewayMain.class.getName());

    private final CommandLine commandLine;

    public GatewayMain() {
        commandLine = new CommandLine(CommandSpecs.create(Program.GATEWAY, this, version(),
                "Tandem's OpenAI-compatible gateway. Without -cluster it runs embedded: one prefill and one decode "
                        + "worker in this JVM on the bundled model."));
        commandLine.addSubcommand(new io.tandem.gateway.soak.SoakCommand());
    }

    public static void main(String[] args) {
        JvmRelaunch.relaunchIfNeeded(Program.GATEWAY.jar(), GatewayMain.class, args); // before anything loads the engine
        CommandLine commandLine = new GatewayMain().commandLine();
        int code = commandLine.execute(args);
        // a started gateway keeps running on Vert.x threads; a subcommand (soak) is done
        if (code != 0 || commandLine.getParseResult().subcommand() != null) System.exit(code);
    }

    /** The command line of this gateway (parse or execute arguments with it). */
    public CommandLine commandLine() {
        return commandLine;
    }

    /** The jar's Implementation-Version (the Maven project version). */
    private static String version() {
        String v = GatewayMain.class.getPackage().getImplementationVersion();
        return "Tandem gateway " + (v == null ? "(development build)" : v);
    }

    @Override
    public Integer call() {
        PrintWriter err = commandLine.getErr();
        GatewayOptions options;
        try {
            options = options();
        } catch (IllegalArgumentException | IOException e) {
            err.println("gateway: " + e.getMessage());
            return 2;
        }
        Gateway gateway;
        try {
            gateway = Gateway.start(options).await(5, TimeUnit.MINUTES);
        } catch (Exception e) {
            err.println("gateway: could not start: " + e.getMessage());
            return 1;
        }
        commandLine.getOut().println("Tandem gateway listening on http://" + shownHost(options.host()) + ":" + gateway.port());
        commandLine.getOut().println("Tandem gRPC (KServe v2, tandem.v1.Generate) listening on " + shownHost(options.host()) + ":"
                + gateway.grpcPort());
        commandLine.getOut().println("Tandem network I/O: " + NetworkTransport.describe(gateway.vertx()));
        commandLine.getOut().flush();
        StopSignals.install(Program.GATEWAY.jar(), stopBound(options), () -> stop(gateway, options));
        return 0; // Vert.x threads keep the JVM alive
    }

    /** Stopping HTTP, the embedded workers and the cluster membership may take this long together. */
    private static final Duration TEARDOWN = Duration.ofSeconds(40);

    /** The gateway's drain, then (embedded) its workers' drain with their held prefills, then the teardown. */
    static Duration stopBound(GatewayOptions o) {
        return o.drainTimeout().multipliedBy(2).plusMillis(o.disaggregation().prefillTimeoutMillis()).plus(TEARDOWN);
    }

    /** The stop on SIGTERM: drain, then stop HTTP, the embedded workers, the cluster membership; 0 when all went well. */
    static int stop(Gateway gateway, GatewayOptions options) {
        int code = 0;
        try {
            gateway.drain(options.drainTimeout()).await(stopBound(options).minus(TEARDOWN).toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "gateway: drain did not complete (" + e + "); stopping anyway");
            code = 1;
        }
        try {
            LOG.log(System.Logger.Level.INFO, "gateway: closing HTTP" + (gateway.workers().isEmpty() ? "" : ", stopping its workers")
                    + ", leaving");
            gateway.stop().await(TEARDOWN.toSeconds(), TimeUnit.SECONDS);
            LOG.log(System.Logger.Level.INFO, "gateway stopped");
        } catch (Exception e) {
            LOG.log(System.Logger.Level.ERROR, "gateway: unclean shutdown: " + e);
            code = 1;
        }
        return code;
    }

    /** The parsed command line's options: the conf file's, with the flags on top. */
    GatewayOptions options() throws IOException {
        Map<OptionDef<?>, Object> flags = CommandSpecs.given(commandLine.getParseResult(), Program.GATEWAY);
        Map<OptionDef<?>, Object> file = ConfFile.read(Program.GATEWAY, (Path) flags.get(TandemOptions.CONF),
                warning -> LOG.log(System.Logger.Level.WARNING, warning));
        return new GatewayOptions().apply(OptionValues.merge(Program.GATEWAY, file, flags), System.getenv());
    }

    private static String shownHost(String host) {
        return host.equals("0.0.0.0") || host.equals("::") ? "localhost" : host;
    }
}
