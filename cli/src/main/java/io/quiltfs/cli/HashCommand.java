package io.quiltfs.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import java.io.IOException;
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

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Files to hash.",
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
     * when every failure is a missing file or not a regular file, {@link ExitCodes#FAILURE} when
     * one could not be read.
     */
    @Override
    public Integer call() throws Exception {
        HashType t = HashType.parseUserInput(type);
        Output out = out();
        int n = files.size();
        String[] errors = new String[n];
        Checksum[] sums = new Checksum[n];
        List<Path> ok = new ArrayList<>(n);
        int exit = ExitCodes.OK;
        for (int i = 0; i < n; i++) {
            Path f = files.get(i);
            if (Files.isRegularFile(f)) {
                ok.add(f);
            } else {
                errors[i] = !Files.exists(f) ? "no such file: " + f
                        : f + (Files.isDirectory(f) ? " is a folder" : " is not a regular file");
                exit = ExitCodes.NOT_FOUND;
            }
        }
        try {
            List<Checksum> all = FileHasher.hashAll(ok, t);
            for (int i = 0, j = 0; i < n; i++) {
                if (errors[i] == null) {
                    sums[i] = all.get(j++);
                }
            }
        } catch (IOException batch) {
            // One of them could not be read (permissions, gone meanwhile): hash them one by one
            // to report each failure with its file and still print the others.
            for (int i = 0; i < n; i++) {
                if (errors[i] == null) {
                    try {
                        sums[i] = FileHasher.hash(files.get(i), t);
                    } catch (IOException e) {
                        errors[i] = Cli.message(e);
                        exit = ExitCodes.FAILURE;
                    }
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
                    text.append(sums[i].value()).append("  ").append(files.get(i)).append('\n');
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
}
