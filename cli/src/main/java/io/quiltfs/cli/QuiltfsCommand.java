package io.quiltfs.cli;

import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The root command: global options shared by every subcommand. */
@Command(name = "quiltfs", mixinStandardHelpOptions = true, versionProvider = QuiltfsCommand.Version.class,
        description = "Versioned Quilt datasets as ordinary folders.",
        footer = {"", "Exit codes: 0 ok, 1 failure, 2 usage, 3 refused to protect work (conflict), 4 not found."})
public final class QuiltfsCommand implements Runnable {
    /**
     * The subcommands, in the order help lists them. They are registered by {@link Cli}: all of
     * them, or only the one a command line names (picocli builds a command's model by
     * reflection, and building all of them cost a quarter of a second at every start).
     */
    static final java.util.List<Class<?>> SUBCOMMANDS = java.util.List.of(
            HashCommand.class,
            ManifestCommand.class,
            BrowseCommand.class,
            BuildCommand.class,
            InstallCommand.class, StatusCommand.class, CommitCommand.class, PushCommand.class,
            PullCommand.class, TagCommand.class, LogCommand.class, UninstallCommand.class,
            MountCommand.class,
            UnmountCommand.class,
            DaemonCommand.class,
            CommandLine.HelpCommand.class);

    /** Root options that take a value (the subcommand's name comes after them). */
    static final java.util.Set<String> VALUED_OPTIONS = java.util.Set.of("--home", "--endpoint");

    @Option(names = "--home", scope = CommandLine.ScopeType.INHERIT, paramLabel = "DIR",
            description = {"Where local state and the object cache live.",
                // (The path starts a line: picocli would cut it after "~/.")
                "Default: $QUILTFS_HOME, else $XDG_DATA_HOME/quiltfs,", "else ~/.local/share/quiltfs."})
    String home;

    @Option(names = "--json", scope = CommandLine.ScopeType.INHERIT,
            description = "Machine-readable output on stdout.")
    boolean json;

    @Option(names = "--debug", scope = CommandLine.ScopeType.INHERIT,
            description = "Stack traces and debug logs on stderr.")
    void setDebug(boolean debug) {
        this.debug = debug;
        if (debug) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "debug");
        }
    }

    boolean debug;

    @Option(names = "--endpoint", scope = CommandLine.ScopeType.INHERIT, paramLabel = "URL",
            description = "S3 endpoint (default: $AWS_ENDPOINT_URL_S3, else $AWS_ENDPOINT_URL, else "
                    + "the AWS profile's endpoint_url; none: AWS S3).")
    String endpoint;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        // No command is a usage error (exit 2, as for an unknown one): the list goes to stderr so
        // that a script calling `quiltfs $CMD` with an empty variable sees a failure.
        spec.commandLine().usage(spec.commandLine().getErr());
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
    }

    Home home() {
        return Home.locate(home, System.getenv());
    }

    S3Settings s3() {
        return S3Settings.fromEnvironment(endpoint, System.getenv()).withHome(home());
    }

    static boolean debugEnabled(CommandLine cl) {
        QuiltfsCommand q = of(cl);
        return q != null && q.debug;
    }

    static boolean jsonEnabled(CommandLine cl) {
        QuiltfsCommand q = of(cl);
        return q != null && q.json;
    }

    /** The root command of {@code cl}'s command line, or null. */
    private static QuiltfsCommand of(CommandLine cl) {
        CommandLine c = cl;
        while (c.getParent() != null) {
            c = c.getParent();
        }
        return c.getCommand() instanceof QuiltfsCommand q ? q : null;
    }

    /** The version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = QuiltfsCommand.class.getPackage().getImplementationVersion();
            return new String[] {"quiltfs " + (v == null ? "dev" : v)};
        }
    }
}
