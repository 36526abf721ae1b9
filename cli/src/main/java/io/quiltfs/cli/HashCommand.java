package io.quiltfs.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Stack;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "hash", mixinStandardHelpOptions = true,
        description = "Print the Quilt checksum of files, like sha256sum: <value>  <FILE>.")
final class HashCommand extends BaseCommand {
    @Option(names = {"-t", "--type"}, paramLabel = "TYPE", defaultValue = "sha2-256-chunked",
            description = "sha2-256-chunked (default), SHA256 or CRC64NVME.")
    String type;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Files to hash (- for standard input).",
            parameterConsumer = FileArguments.class)
    List<String> files;

    /**
     * Whether {@link System#in} is this process's descriptor 0 ({@link Main#main} says so; a test
     * running the command in-process replaces {@code System.in}): only then is {@code -} hashed
     * by its descriptor when that is a regular file.
     */
    static volatile boolean processStdin;

    /** Set by the launcher when the process started with descriptor 0 closed. */
    static final String STDIN_CLOSED = "quiltfs.stdin.closed";

    /**
     * File systems whose files report a size their content does not have (a /sys attribute says
     * 4096 bytes and holds a few; a /proc file says 0): read as streams, as sha256sum reads them.
     */
    private static final java.util.Set<String> MADE_UP_SIZES =
            java.util.Set.of("proc", "sysfs", "debugfs", "tracefs", "securityfs", "configfs");

    /**
     * Takes file arguments in bulk. picocli checks each positional argument for looking like an
     * option by trying to parse it as a number (two exceptions per argument): with 10,000 files
     * that was most of the command's time. picocli has already classified the argument on top of
     * the stack as positional; the following ones are taken here until one starts with '-',
     * which goes back to picocli (an option, or after "--" a file it hands back here). Names are
     * kept as given: a Path would drop a trailing slash ({@code f1/} names no file when f1 is not
     * a folder) and a doubled one (which sha256sum prints as given).
     */
    static final class FileArguments implements CommandLine.IParameterConsumer {
        @Override
        public void consumeParameters(Stack<String> args, CommandLine.Model.ArgSpec argSpec,
                                      CommandLine.Model.CommandSpec commandSpec) {
            List<String> list = argSpec.getValue();
            if (list == null) {
                list = new ArrayList<>();
                argSpec.setValue(list);
            }
            list.add(args.pop());
            while (!args.isEmpty() && !args.peek().startsWith("-")) {
                list.add(args.pop());
            }
        }
    }

    /**
     * Like sha256sum: a line per file that could be hashed, an error line on stderr per file that
     * could not (in argument order), and a non-zero exit when any failed: {@link ExitCodes#NOT_FOUND}
     * when every failure is a missing file or a folder, {@link ExitCodes#FAILURE} when one could
     * not be read. {@code -} is standard input (hashed by its size when it is a regular file, so
     * that no stream limit applies); what is not a regular file (a pipe, a FIFO, {@code <(cmd)}),
     * a regular file whose size reads as 0 ({@code /proc} files) and one of /sys that ends before
     * its size are read as a stream to their end, as sha256sum reads them.
     */
    @Override
    public Integer call() throws Exception {
        HashType t = HashType.parseUserInput(type);
        Output out = out();
        int n = files.size();
        String[] errors = new String[n];
        Checksum[] sums = new Checksum[n];
        boolean[] stream = new boolean[n];
        List<Path> ok = new ArrayList<>(n);
        int exit = ExitCodes.OK;
        for (int i = 0; i < n; i++) {
            String name = files.get(i);
            if (name.equals("-")) {
                if (processStdin && Boolean.getBoolean(STDIN_CLOSED)) {
                    // (the JVM took descriptor 0 for a file of its own: reading it would hash that)
                    errors[i] = "standard input: Bad file descriptor (it is closed)";
                    exit = ExitCodes.FAILURE;
                } else {
                    stream[i] = true;
                }
                continue;
            }
            Path f = Path.of(name);
            java.nio.file.attribute.BasicFileAttributes a;
            try {
                a = Files.readAttributes(f, java.nio.file.attribute.BasicFileAttributes.class);
            } catch (java.nio.file.NoSuchFileException e) {
                // The JVM reads a name that is not UTF-8 with U+FFFD in place of its bad bytes,
                // and cannot open it then: say so rather than only "no such file".
                errors[i] = "no such file: " + escaped(name) + (name.indexOf('\uFFFD') < 0 ? ""
                        : " (if its name is not valid UTF-8: quiltfs cannot open such names; rename it)");
                exit = exit == ExitCodes.FAILURE ? exit : ExitCodes.NOT_FOUND;
                continue;
            } catch (IOException e) { // "Not a directory" (f1/x), "Permission denied"
                errors[i] = failure(name, e);
                exit = ExitCodes.FAILURE;
                continue;
            }
            if (a.isDirectory()) {
                errors[i] = escaped(name) + " is a folder";
                exit = exit == ExitCodes.FAILURE ? exit : ExitCodes.NOT_FOUND;
            } else if (name.endsWith("/")) {
                errors[i] = escaped(name) + ": Not a directory";
                exit = ExitCodes.FAILURE;
            } else if (a.isRegularFile() && a.size() > 0) {
                ok.add(f);
            } else {
                stream[i] = true;
            }
        }
        try {
            List<Checksum> all = FileHasher.hashAll(ok, t);
            for (int i = 0, j = 0; i < n; i++) {
                if (errors[i] == null && !stream[i]) {
                    sums[i] = all.get(j++);
                }
            }
        } catch (IOException batch) {
            // One of them could not be read (permissions, gone meanwhile): hash them one by one
            // to report each failure with its file and still print the others.
            for (int i = 0; i < n; i++) {
                if (errors[i] == null && !stream[i]) {
                    Path f = Path.of(files.get(i));
                    try {
                        sums[i] = FileHasher.hash(f, t);
                    } catch (IOException e) {
                        if (madeUpSize(f)) {
                            stream[i] = true; // a /sys file ends before the size it reports
                        } else {
                            errors[i] = failure(files.get(i), e);
                            exit = ExitCodes.FAILURE;
                        }
                    }
                }
            }
        }
        for (int i = 0; i < n; i++) {
            if (stream[i]) {
                String f = files.get(i);
                try {
                    if (f.equals("-")) {
                        sums[i] = standardInput(t);
                    } else {
                        try (InputStream in = Files.newInputStream(Path.of(f))) {
                            sums[i] = FileHasher.hash(in, t);
                        }
                    }
                } catch (IOException e) {
                    errors[i] = failure(f, e);
                    exit = ExitCodes.FAILURE;
                }
            }
        }
        if (!out.json()) {
            // Text output does not touch Jackson (its start-up is a visible share of a small
            // hash), and goes out in one write rather than a flushed line per file (an error
            // line first flushes the lines before it, so that a terminal shows them in order).
            PrintWriter err = spec.commandLine().getErr();
            StringBuilder text = new StringBuilder(n * 80);
            for (int i = 0; i < n; i++) {
                if (errors[i] == null) {
                    String name = files.get(i);
                    String shown = escaped(name);
                    // sha256sum's convention: a line whose name needed escapes starts with '\\'
                    text.append(shown.equals(name) ? "" : "\\").append(sums[i].value()).append("  ")
                            .append(shown).append('\n');
                } else {
                    out.text(text);
                    out.flush();
                    text.setLength(0);
                    err.println("quiltfs: error: " + errors[i]);
                    err.flush();
                }
            }
            out.text(text);
            out.flush();
            return exit;
        }
        ArrayNode arr = Json.NODES.arrayNode();
        for (int i = 0; i < n; i++) {
            var o = arr.addObject().put("file", files.get(i)).put("type", t.wireName());
            if (errors[i] == null) {
                o.put("value", sums[i].value());
            } else {
                o.put("error", errors[i]);
            }
        }
        out.json(arr);
        out.flush();
        return exit;
    }

    /**
     * Standard input to its end. When it is this process's descriptor 0 and a regular file read
     * from its start, it is hashed by its size (in parallel, and without the limit of a stream's
     * sha2-256-chunked) and left at its end, as reading it would leave it; otherwise (a pipe, a
     * terminal, a file part-read, one of /sys that ends before its size) it is read as a stream.
     * Not closed: standard input belongs to the process ("- -" reads it twice, the second time
     * empty, as sha256sum does).
     */
    private static Checksum standardInput(HashType t) throws IOException {
        if (processStdin && Files.isRegularFile(Path.of("/proc/self/fd/0"))) {
            @SuppressWarnings("resource") // closing it would close descriptor 0
            java.nio.channels.FileChannel ch = new java.io.FileInputStream(java.io.FileDescriptor.in).getChannel();
            long size = ch.size();
            if (size > 0 && ch.position() == 0) {
                Checksum sum;
                try {
                    sum = FileHasher.hash(ch, size, t);
                } catch (IOException e) {
                    // (positional reads: the descriptor is still at its start for the stream)
                    if (!madeUpSize(Path.of("/proc/self/fd/0"))) {
                        throw e;
                    }
                    return FileHasher.hash(stdinStream(), t);
                }
                ch.position(size);
                return sum;
            }
        }
        return FileHasher.hash(stdinStream(), t);
    }

    /**
     * Standard input as a stream. The process's own is read through an unbuffered stream on
     * descriptor 0: {@link System#in} is buffered, and its buffer asks {@code available()}
     * between reads, an lseek that a /proc file (seq_file) refuses ("Invalid argument": {@code
     * hash - < /proc/version}); a plain read never seeks. Not closed (see above).
     */
    @SuppressWarnings("resource")
    private static InputStream stdinStream() {
        return processStdin ? new java.io.FileInputStream(java.io.FileDescriptor.in) : System.in;
    }

    /** Whether {@code f} is on a file system whose sizes are made up ({@link #MADE_UP_SIZES}). */
    private static boolean madeUpSize(Path f) {
        try {
            return MADE_UP_SIZES.contains(Files.getFileStore(f).type());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** One line naming the file (as given) and why it could not be hashed. */
    private static String failure(String raw, IOException e) {
        String why = Cli.message(e);
        if (raw.equals("-")) {
            return "standard input: " + why;
        }
        String name = escaped(raw);
        String parsed = Path.of(raw).toString(); // what the JVM's message names (a//f1 is a/f1)
        return why.contains(raw) ? why.replace(raw, name)
                : why.contains(parsed) ? why.replace(parsed, name) : name + ": " + why;
    }

    /**
     * A name as sha256sum prints it: a backslash, a newline and a carriage return are escaped
     * ({@code \\}, {@code \n}, {@code \r}) so that every answer is one line (the line then starts
     * with a backslash, which {@code sha256sum -c} reads back).
     */
    static String escaped(String name) {
        if (name.indexOf('\\') < 0 && name.indexOf('\n') < 0 && name.indexOf('\r') < 0) {
            return name;
        }
        StringBuilder sb = new StringBuilder(name.length() + 8);
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
