package io.quiltfs.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.manifest.ManifestReader;
import io.quiltfs.store.manifest.Problem;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "manifest", mixinStandardHelpOptions = true,
        description = "Work with manifest files.",
        subcommands = {ManifestCommand.TopHashCommand.class, ManifestCommand.ValidateCommand.class})
final class ManifestCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code file}, refused with one line naming it when it is a folder (reading one fails without its name). */
    static Path manifestFile(Path file) {
        if (Files.isDirectory(file)) {
            throw new CliException(ExitCodes.NOT_FOUND, file + " is a folder, not a manifest file");
        }
        return file;
    }

    @Command(name = "tophash", mixinStandardHelpOptions = true,
            description = "Print the top hash of a manifest (64 hex digits, nothing else).")
    static final class TopHashCommand extends BaseCommand {
        @Parameters(paramLabel = "FILE", description = "A JSONL manifest.")
        Path file;

        @Override
        public Integer call() throws Exception {
            Manifest m = ManifestReader.read(manifestFile(file));
            Output out = out();
            out.line(m.topHash());
            ObjectNode o = Json.object().put("file", file.toString()).put("top_hash", m.topHash())
                    .put("rows", m.size());
            out.json(o);
            out.flush();
            return ExitCodes.OK;
        }
    }

    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = "Report every problem in a manifest with its line number; exit 1 if any is an error.")
    static final class ValidateCommand extends BaseCommand {
        @Parameters(paramLabel = "FILE", description = "A JSONL manifest.")
        Path file;

        @Override
        public Integer call() throws Exception {
            List<Problem> problems;
            try (InputStream in = Files.newInputStream(manifestFile(file))) {
                problems = ManifestReader.validate(in, file.toString());
            }
            Output out = out();
            ArrayNode arr = Json.NODES.arrayNode();
            boolean errors = false;
            for (Problem p : problems) {
                errors |= p.error();
                if (!out.json()) {
                    spec.commandLine().getErr().println(file + ":" + p);
                }
                ObjectNode o = arr.addObject().put("line", p.line()).put("message", p.message())
                        .put("severity", p.error() ? "error" : "warning");
                if (p.key() != null) {
                    o.put("key", p.key());
                }
            }
            spec.commandLine().getErr().flush();
            if (!errors) {
                out.line(file + ": valid" + (problems.isEmpty() ? "" : " (" + problems.size() + (problems.size() == 1 ? " warning)" : " warnings)")));
            }
            out.json(Json.object().put("file", file.toString()).put("valid", !errors).set("problems", arr));
            out.flush();
            return errors ? ExitCodes.FAILURE : ExitCodes.OK;
        }
    }
}
