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
    List<Path> files;

    /**
     * Takes file arguments in bulk. picocli checks each positional argument for looking like an
     * option by trying to parse it as a number (two exceptions per argument): with 10,000 files
     * that was most of the command's time. picocli has already classified the argument on top of
     * the stack as positional; the following ones are taken here until one starts with '-',
     * which goes back to picocli (an option, or after "--" a file it hands back here).
     */
    static final class FileArguments implements CommandLine.IParameterConsumer {
        @Override
        public void consumeParameters(Stack<String> args, CommandLine.Model.ArgSpec argSpec,
                                      CommandLine.Model.CommandSpec commandSpec) {
            List<Path> list = argSpec.getValue();
            if (list == null) {
                list = new ArrayList<>();
                argSpec.setValue(list);
            }
            list.add(Path.of(args.pop()));
            while (!args.isEmpty() && !args.peek().startsWith("-")) {
                list.add(Path.of(args.pop()));
            }
        }
    }

    /**
     * Like sha256sum: a line per file that could be hashed, an error line on stderr per file that
     * could not (in argument order), and a non-zero exit when any failed: {@link ExitCodes#NOT_FOUND}
     * when every failure is a missing file or a folder, {@link ExitCodes#FAILURE} when one could
     * not be read. {@code -} is standard input; what is not a regular file (a pipe, a FIFO,
     * {@code <(cmd)}) and a regular file whose size reads as 0 ({@code /proc} files) are read as
     * a stream to their end, as sha256sum reads them.
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
            Path f = files.get(i);
            if (f.toString().equals("-")) {
                stream[i] = true;
            } else if (Files.isRegularFile(f)) {
                if (sizeOrZero(f) == 0) {
                    stream[i] = true;
                } else {
                    ok.add(f);
                }
            } else if (!Files.exists(f)) {
                // The JVM reads a name that is not UTF-8 with U+FFFD in place of its bad bytes,
                // and cannot open it then: say so rather than only "no such file".
                errors[i] = "no such file: " + escaped(f.toString()) + (f.toString().indexOf('\uFFFD') < 0 ? ""
                        : " (if its name is not valid UTF-8: quiltfs cannot open such names; rename it)");
                exit = ExitCodes.NOT_FOUND;
            } else if (Files.isDirectory(f)) {
                errors[i] = escaped(f.toString()) + " is a folder";
                exit = ExitCodes.NOT_FOUND;
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
                    try {
                        sums[i] = FileHasher.hash(files.get(i), t);
                    } catch (IOException e) {
                        errors[i] = failure(files.get(i), e);
                        exit = ExitCodes.FAILURE;
                    }
                }
            }
        }
        for (int i = 0; i < n; i++) {
            if (stream[i]) {
                Path f = files.get(i);
                try {
                    if (f.toString().equals("-")) {
                        // (not closed: standard input belongs to the process; "- -" reads it
                        // twice, the second time empty, as sha256sum does)
                        sums[i] = FileHasher.hash(System.in, t);
                    } else {
                        try (InputStream in = Files.newInputStream(f)) {
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
                    String name = files.get(i).toString();
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
            var o = arr.addObject().put("file", files.get(i).toString()).put("type", t.wireName());
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

    /** The file's size, 0 when it cannot be read (it is then read as a stream, which reports why). */
    private static long sizeOrZero(Path f) {
        try {
            return Files.size(f);
        } catch (IOException e) {
            return 0;
        }
    }

    /** One line naming the file and why it could not be hashed. */
    private static String failure(Path f, IOException e) {
        String why = Cli.message(e);
        String name = f.toString().equals("-") ? "standard input" : escaped(f.toString());
        String raw = f.toString();
        return !raw.equals("-") && why.contains(raw) ? why.replace(raw, name) : name + ": " + why;
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
