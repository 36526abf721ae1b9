package io.quiltfs.cli;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;

/**
 * Standard output as the CLI writes it: remembers the first write that failed, which the
 * PrintWriter the commands print through swallows. Without it `quiltfs browse --json R > list.json`
 * on a full disk would exit 0 with the list cut short.
 */
final class StandardOutput extends FilterOutputStream {
    private volatile IOException failure;

    StandardOutput(OutputStream out) {
        super(out);
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

    /** Whether {@code e} says the reader went away ({@code quiltfs log | head -1}): nothing to report. */
    static boolean readerGone(IOException e) {
        String m = e.getMessage();
        return m != null && m.contains("Broken pipe");
    }

    /**
     * The exit code of a command that ended with {@code code}: a failure (1), named on one line
     * of {@code err}, when what it printed did not all reach standard output, unless the reader
     * closed it early (a pager quit, {@code head}), which asked for no more.
     */
    int exitCode(int code, PrintWriter err) {
        IOException f = failure;
        if (f == null || readerGone(f)) {
            return code;
        }
        err.println("quiltfs: error: writing to standard output failed (" + Cli.message(f)
                + "): what was printed is incomplete");
        err.flush();
        return code == ExitCodes.OK ? ExitCodes.FAILURE : code;
    }
}
