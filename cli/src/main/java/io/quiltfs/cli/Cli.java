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

    /** The whole command line, every subcommand registered. */
    public static CommandLine commandLine() {
        return commandLine(null);
    }

    /**
     * The command line for {@code args}: only the subcommand they name is registered when they
     * name one (null, help, a root option or an unknown name: all of them, for help and
     * suggestions).
     */
    public static CommandLine commandLine(String[] args) {
        CommandLine cl = new CommandLine(new QuiltfsCommand());
        Class<?> only = args == null ? null : named(args);
        for (Class<?> c : QuiltfsCommand.SUBCOMMANDS) {
            if (only == null || c == only) {
                cl.addSubcommand(c);
            }
        }
        cl.setExecutionExceptionHandler(Cli::handle);
        cl.setParameterExceptionHandler((ex, all) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            String message = unknownCommand(ex);
            if (message == null) {
                message = ex.getMessage();
            }
            err.println("quiltfs: " + message);
            if (ex instanceof CommandLine.UnmatchedArgumentException u) {
                CommandLine.UnmatchedArgumentException.printSuggestions(u, err);
            }
            err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
            err.flush();
            // The options were not all parsed: --json is looked for in the words themselves.
            int end = java.util.Arrays.asList(all).indexOf("--");
            if (java.util.Arrays.asList(all).subList(0, end < 0 ? all.length : end).contains("--json")) {
                printError(ex.getCommandLine().getOut(), message, ExitCodes.USAGE, java.util.List.of());
            }
            return ExitCodes.USAGE;
        });
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }

    /**
     * "unknown command 'x'" when the first word the root could not place is not an option (picocli
     * says "Unmatched arguments from index 0: 'x', ..."), else null.
     */
    private static String unknownCommand(CommandLine.ParameterException ex) {
        if (ex instanceof CommandLine.UnmatchedArgumentException u && ex.getCommandLine().getParent() == null
                && !ex.getCommandLine().getSubcommands().isEmpty() && !u.getUnmatched().isEmpty()
                && !u.getUnmatched().get(0).startsWith("-")) {
            return "unknown command '" + u.getUnmatched().get(0) + "'";
        }
        return null;
    }

    /** The subcommand class {@code args} name after the root's options, or null. */
    private static Class<?> named(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (QuiltfsCommand.VALUED_OPTIONS.contains(a)) {
                i++;
            } else if (!a.startsWith("-")) {
                for (Class<?> c : QuiltfsCommand.SUBCOMMANDS) {
                    CommandLine.Command cmd = c.getAnnotation(CommandLine.Command.class);
                    if (c != CommandLine.HelpCommand.class && cmd != null
                            && (cmd.name().equals(a) || java.util.Arrays.asList(cmd.aliases()).contains(a))) {
                        return c;
                    }
                }
                return null;
            } else if (!a.startsWith("--home=") && !a.startsWith("--endpoint=") && !a.equals("--json")
                    && !a.equals("--debug")) {
                return null; // --help, --version, or a mistake: the whole command line answers
            }
        }
        return null;
    }

    private static int handle(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        PrintWriter err = cl.getErr();
        boolean debug = QuiltfsCommand.debugEnabled(cl);
        if (debug) {
            ex.printStackTrace(err);
        }
        err.println("quiltfs: error: " + message(ex));
        err.flush();
        int code = exitCode(ex);
        if (QuiltfsCommand.jsonEnabled(cl)) {
            printError(cl.getOut(), message(ex), code,
                    ex instanceof io.quiltfs.store.workflow.ConflictException c ? c.keys() : java.util.List.of());
        }
        return code;
    }

    /** A failure for scripts (--json), on stdout in the form of every other answer. */
    private static void printError(PrintWriter out, String message, int code, java.util.Collection<String> keys) {
        var e = io.quiltfs.store.json.Json.object().put("message", message.replace('\n', ' ')).put("exit_code", code)
                .put("kind", switch (code) {
                    case ExitCodes.CONFLICT -> "conflict";
                    case ExitCodes.NOT_FOUND -> "not_found";
                    case ExitCodes.USAGE -> "usage";
                    default -> "failure";
                });
        if (!keys.isEmpty()) {
            var arr = e.putArray("keys");
            keys.forEach(arr::add);
        }
        out.println(io.quiltfs.store.json.Json.pretty(io.quiltfs.store.json.Json.object().set("error", e)));
        out.flush();
    }


    static String message(Throwable ex) {
        if (ex instanceof io.quiltfs.store.workflow.Install.Incomplete i) {
            return message(i.reason()) + "; " + i.hint();
        }
        if (ex instanceof io.quiltfs.store.workflow.Pull.Incomplete i) {
            return i.message(message(i.reason()));
        }
        if (ex instanceof NoSuchFileException n) {
            return "no such file: " + n.getFile();
        }
        if (ex instanceof AccessDeniedException a) {
            return "permission denied: " + a.getFile();
        }
        if (ex instanceof java.nio.file.FileAlreadyExistsException f) {
            // (A file where a folder must be created: the JDK's message is the bare path.)
            return "something is in the way at " + f.getFile() + " (quiltfs needs to create a folder or file there);"
                    + " move it aside and try again";
        }
        if (ex instanceof java.nio.file.FileSystemException f && "Is a directory".equals(f.getReason())) {
            String where = f.getOtherFile() != null ? f.getOtherFile() : f.getFile();
            return where + " is a folder where quiltfs needs a file; move it aside and try again";
        }
        if (ex instanceof java.nio.file.FileSystemException f && "File name too long".equals(f.getReason())) {
            // A key may hold names up to S3's 1024 bytes: a local file system takes 255 per name.
            String where = f.getOtherFile() != null ? f.getOtherFile() : f.getFile();
            return "a name in " + where + " is longer than the file system allows (255 bytes per name on most)";
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
        if (ex instanceof io.quiltfs.store.workflow.Install.Incomplete i) {
            return exitCode(i.reason());
        }
        if (ex instanceof io.quiltfs.store.workflow.Pull.Incomplete i) {
            return i.keptAnEdit() ? ExitCodes.CONFLICT : exitCode(i.reason());
        }
        if (ex instanceof CliException c) {
            return c.exitCode();
        }
        if (ex instanceof io.quiltfs.store.workflow.ConflictException) {
            return ExitCodes.CONFLICT;
        }
        if (ex instanceof io.quiltfs.store.policy.WorkflowException w) {
            // A revision the registry's rules refuse is refused (3) at build, commit and push alike;
            // a config that cannot be read or used is a failure (1).
            return w.isConfigProblem() ? ExitCodes.FAILURE : ExitCodes.CONFLICT;
        }
        if (ex instanceof RegistryException.NotFound || ex instanceof NoSuchFileException
                || ex instanceof io.quiltfs.store.workflow.NotInstalledException
                || ex instanceof io.quiltfs.store.workflow.MissingWorkFolderException) {
            return ExitCodes.NOT_FOUND;
        }
        if (ex instanceof IllegalArgumentException || ex instanceof RegistryException.Ambiguous) {
            return ExitCodes.USAGE;
        }
        if (ex instanceof ManifestException || ex instanceof StateException
                || ex instanceof ChecksumMismatchException) {
            return ExitCodes.FAILURE;
        }
        return ExitCodes.FAILURE;
    }
}
