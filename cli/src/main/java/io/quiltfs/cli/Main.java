package io.quiltfs.cli;

import picocli.CommandLine;

/** Entry point: runs the command line and exits with its code. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        HashCommand.processStdin = true; // System.in is descriptor 0 (tests running in-process replace it)
        System.exit(run(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, args));
    }

    /**
     * Runs without exiting, printing to {@code stdout} (for tests): a write to it that fails
     * (a full disk) fails the command.
     */
    public static int run(java.io.OutputStream stdout, String... args) {
        return run(stdout, false, args);
    }

    /** {@code descriptor1}: {@code stdout} writes to descriptor 1 (a pipe there may lose its reader). */
    static int run(java.io.OutputStream stdout, boolean descriptor1, String... args) {
        // picocli otherwise looks for Groovy's closure class at start: a lookup that fails only
        // after searching every jar of the class path, at every command.
        if (System.getProperty("picocli.disable.closures") == null) {
            System.setProperty("picocli.disable.closures", "true");
        }
        StandardOutput checked = new StandardOutput(stdout, descriptor1);
        CommandLine cl = Cli.commandLine(args);
        // As picocli's own standard output (autoflush, its encoding), over a stream that keeps errors.
        String enc = System.getProperty("sun.stdout.encoding");
        java.nio.charset.Charset cs = enc != null && java.nio.charset.Charset.isSupported(enc)
                ? java.nio.charset.Charset.forName(enc) : java.nio.charset.Charset.defaultCharset();
        java.io.PrintWriter out = new java.io.PrintWriter(new java.io.OutputStreamWriter(checked, cs), true);
        cl.setOut(out);
        int code = cl.execute(args);
        out.flush();
        return checked.exitCode(code, cl.getErr());
    }
}
