package io.quiltfs.cli;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Standard output as the CLI writes it: remembers the first write that failed, which the
 * PrintWriter the commands print through swallows. Without it `quiltfs browse --json R > list.json`
 * on a full disk would exit 0 with the list cut short.
 */
final class StandardOutput extends FilterOutputStream {
    /** Where Linux shows what descriptor 1 is open on. */
    private static final Path DESCRIPTOR_1 = Path.of("/proc/self/fd/1");

    private volatile IOException failure;
    /** Whether {@code out} writes to descriptor 1 (not so in tests running in-process). */
    private final boolean descriptor1;

    /** {@code descriptor1}: {@code out} writes to descriptor 1, which tells whether a reader may leave. */
    StandardOutput(OutputStream out, boolean descriptor1) {
        super(out);
        this.descriptor1 = descriptor1;
    }

    @Override
    public void write(int b) throws IOException {
        try {
            out.write(b);
        } catch (IOException e) {
            failed(e);
        }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        try {
            out.write(b, off, len);
        } catch (IOException e) {
            failed(e);
        }
    }

    @Override
    public void flush() throws IOException {
        try {
            out.flush();
        } catch (IOException e) {
            failed(e);
        }
    }

    private void failed(IOException e) throws IOException {
        if (failure == null) {
            failure = e;
        }
        throw e;
    }

    /**
     * Whether a failed write to descriptor 1 means its reader went away ({@code quiltfs log | head
     * -1}): nothing to report. Decided by what the descriptor is open on, not by the error's text,
     * which the C library translates (the JVM sets the locale: "Datenübergabe unterbrochen"): a
     * write to a pipe or a socket fails only once its reader closed it, while one to a file (a
     * full disk, a closed descriptor) lost what was printed.
     */
    static boolean readerCanLeave(Path descriptor) {
        try {
            String target = Files.readSymbolicLink(descriptor).toString();
            return target.startsWith("pipe:") || target.startsWith("socket:");
        } catch (IOException | UnsupportedOperationException e) {
            return false; // cannot tell (no /proc, descriptor closed): the output was lost
        }
    }

    /**
     * The exit code of a command that ended with {@code code}: a failure (1), named on one line
     * of {@code err}, when what it printed did not all reach standard output, unless the reader
     * closed it early (a pager quit, {@code head}), which asked for no more.
     */
    int exitCode(int code, PrintWriter err) {
        IOException f = failure;
        if (f == null || descriptor1 && readerCanLeave(DESCRIPTOR_1)) {
            return code;
        }
        // A command whose own work succeeded (a push published, a build made a revision, a mount
        // is up) exits 1 as coreutils do, but must not read as if that work failed: run again,
        // it would do it twice.
        err.println("quiltfs: error: writing to standard output failed (" + Cli.message(f) + "): "
                + (code == ExitCodes.OK ? "the command itself completed and need not be run again; only what it"
                        + " printed is lost" : "what was printed is incomplete"));
        err.flush();
        return code == ExitCodes.OK ? ExitCodes.FAILURE : code;
    }
}
