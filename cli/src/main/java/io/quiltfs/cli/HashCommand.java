package io.quiltfs.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
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

    @Override
    public Integer call() throws Exception {
        HashType t = HashType.parseUserInput(type);
        Output out = out();
        for (Path f : files) {
            if (!Files.isRegularFile(f)) {
                throw new CliException(ExitCodes.NOT_FOUND, f + " is not a regular file");
            }
        }
        List<Checksum> sums = FileHasher.hashAll(new ArrayList<>(files), t);
        if (!out.json()) {
            // Text output does not touch Jackson (its start-up is a visible share of a small
            // hash), and goes out in one write rather than a flushed line per file.
            StringBuilder text = new StringBuilder(files.size() * 80);
            for (int i = 0; i < files.size(); i++) {
                text.append(sums.get(i).value()).append("  ").append(files.get(i)).append('\n');
            }
            out.text(text);
            out.flush();
            return ExitCodes.OK;
        }
        ArrayNode arr = Json.NODES.arrayNode();
        for (int i = 0; i < files.size(); i++) {
            arr.addObject().put("file", files.get(i).toString()).put("type", t.wireName())
                    .put("value", sums.get(i).value());
        }
        out.json(arr);
        out.flush();
        return ExitCodes.OK;
    }
}
