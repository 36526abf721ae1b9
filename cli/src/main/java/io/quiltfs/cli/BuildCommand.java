package io.quiltfs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.policy.WorkflowChoice;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.workflow.Build;
import io.quiltfs.store.workflow.Publisher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "build", mixinStandardHelpOptions = true,
        description = {"Make a package revision from a folder and publish it to a registry.",
            "Copies the files into the registry's data area, writes the manifest and pointers, and "
            + "prints the top hash."})
final class BuildCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "NS/NAME", description = "The package to publish a revision of.")
    String pkg;

    @Parameters(index = "1", paramLabel = "DIR", description = "The folder whose files become the revision.")
    Path dir;

    @Option(names = {"-r", "--registry"}, required = true, paramLabel = "REGISTRY",
            description = "file:///abs/path, a local path, or s3://bucket.")
    String registry;

    @Option(names = {"-m", "--message"}, paramLabel = "MSG", description = "The revision's message.")
    String message;

    @Option(names = "--meta", paramLabel = "JSON", description = "Package user metadata (a JSON value).")
    String meta;

    @Option(names = "--workflow", paramLabel = "ID", description = "The registry's workflow to publish under (quilt3"
            + " workflows, .quilt/workflows/config.yml); default: the config's default_workflow; '' for none, where"
            + " the config does not require one.")
    String workflow;

    @Option(names = "--hash-type", paramLabel = "TYPE", defaultValue = "sha2-256-chunked",
            description = "Checksum type for the rows (default sha2-256-chunked).")
    String hashType;

    @Override
    public Integer call() throws Exception {
        PackageName name = PackageName.parse(pkg);
        if (!Files.isDirectory(dir)) {
            throw new CliException(ExitCodes.NOT_FOUND, dir + " is not a folder");
        }
        JsonNode userMeta = null;
        if (meta != null) {
            try {
                userMeta = Json.parse(meta);
            } catch (IllegalArgumentException e) {
                throw new CliException(ExitCodes.USAGE, "--meta: " + e.getMessage());
            }
        }
        Output out = out();
        try (Registry r = openRegistry(registry)) {
            Publisher.Result res = Build.build(r, name, dir, message, userMeta,
                    HashType.parseUserInput(hashType), WorkflowChoice.parse(workflow),
                    Registries.sources(r, root().s3()), Clock.systemUTC(), progress(out));
            out.line(res.topHash());
            out.json(Json.object().put("package", name.toString()).put("registry", r.uri())
                    .put("top_hash", res.topHash()).put("files", res.manifest().size())
                    .put("bytes", res.manifest().totalBytes()).put("uploaded", res.uploaded())
                    .put("uploaded_bytes", res.uploadedBytes()));
            out.flush();
        }
        return ExitCodes.OK;
    }
}
