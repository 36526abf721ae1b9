package io.quiltfs.cli;

import picocli.CommandLine;

/** Entry point: runs the command line and exits with its code. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        HashCommand.processStdin = true; // System.in is descriptor 0 (tests running in-process replace it)
        System.exit(run(args));
    }

    /** Runs without exiting (for tests). */
    public static int run(String... args) {
        // picocli otherwise looks for Groovy's closure class at start: a lookup that fails only
        // after searching every jar of the class path, at every command.
        if (System.getProperty("picocli.disable.closures") == null) {
            System.setProperty("picocli.disable.closures", "true");
        }
        return Cli.commandLine(args).execute(args);
    }
}
