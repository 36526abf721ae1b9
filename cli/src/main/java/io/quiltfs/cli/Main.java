package io.quiltfs.cli;

import picocli.CommandLine;

/** Entry point: runs the command line and exits with its code. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs without exiting (for tests). */
    public static int run(String... args) {
        return Cli.commandLine(args).execute(args);
    }
}
