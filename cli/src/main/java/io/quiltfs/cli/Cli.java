package io.quiltfs.cli;

import io.quiltfs.store.cache.ChecksumMismatchException;
import io.quiltfs.store.manifest.ManifestException;
import io.quiltfs.store.registry.RegistryException;
import io.quiltfs.store.state.StateException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;

/** Builds the command line and owns the one mapping from exceptions to messages and exit codes. */
public final class Cli {
    private Cli() {
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new QuiltfsCommand());
        cl.setExecutionExceptionHandler(Cli::handle);
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("quiltfs: " + ex.getMessage());
            err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
            return ExitCodes.USAGE;
        });
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    private static int handle(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        boolean debug = QuiltfsCommand.debugEnabled(cl);
        if (debug) {
            ex.printStackTrace(err);
        }
        err.println("quiltfs: error: " + message(ex));
        err.flush();
        return exitCode(ex);
    }

    static String message(Throwable ex) {
        if (ex instanceof NoSuchFileException n) {
            return "no such file: " + n.getFile();
        }
        if (ex instanceof AccessDeniedException a) {
            return "permission denied: " + a.getFile();
        }
        if (ex instanceof java.io.UncheckedIOException u && u.getCause() != null) {
            return message(u.getCause());
        }
        String m = ex.getMessage();
        if (m == null || m.isBlank()) {
            m = ex.getClass().getSimpleName();
        }
        return m.replace('\n', ' ');
    }

    static int exitCode(Throwable ex) {
        if (ex instanceof CliException c) {
            return c.exitCode();
        }
        if (ex instanceof io.quiltfs.store.workflow.ConflictException) {
            return ExitCodes.CONFLICT;
        }
        if (ex instanceof RegistryException.NotFound || ex instanceof NoSuchFileException
                || ex instanceof io.quiltfs.store.workflow.NotInstalledException) {
            return ExitCodes.NOT_FOUND;
        }
        if (ex instanceof IllegalArgumentException) {
            return ExitCodes.USAGE;
        }
        if (ex instanceof ManifestException || ex instanceof StateException
                || ex instanceof ChecksumMismatchException) {
            return ExitCodes.FAILURE;
        }
        return ExitCodes.FAILURE;
    }
}
