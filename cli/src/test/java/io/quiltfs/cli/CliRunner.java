package io.quiltfs.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs the CLI in-process and captures stdout, stderr and the exit code. */
final class CliRunner {
    record Result(int code, String out, String err) {
    }

    /** Like the launcher: only the subcommand named is registered (see {@link Cli#commandLine(String[])}). */
    static Result run(String... args) {
        CommandLine cl = Cli.commandLine(args);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }
}
