package io.quiltfs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.policy.WorkflowChoice;
import io.quiltfs.store.policy.WorkflowException;
import io.quiltfs.store.policy.Workflows;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.workflow.Commit;
import io.quiltfs.store.workflow.InstalledPackage;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "commit", mixinStandardHelpOptions = true,
        description = {"Record the working folder as a new local revision.",
            "Hashes what changed, stores the new objects in the cache, writes the manifest and prints "
            + "its top hash. Nothing changed: says so and exits 0. Publish it with push."})
final class CommitCommand extends PackageCommand {
    @Parameters(index = "0", paramLabel = "NS/NAME|MOUNTPOINT",
            description = "An installed package, or the mount point of an editable mount.")
    String pkg;

    @Option(names = {"-m", "--message"}, required = true, paramLabel = "MSG", description = "The revision's message.")
    String message;

    @Option(names = "--meta", paramLabel = "JSON", description = "Package user metadata (a JSON value); default:"
            + " keep the current one.")
    String meta;

    @Option(names = "--meta-file", paramLabel = "FILE", description = "Package user metadata from a JSON file.")
    Path metaFile;

    @Option(names = "--workflow", paramLabel = "ID", description = "The workflow of the package's registry to"
            + " commit under (quilt3 workflows, .quilt/workflows/config.yml); default: the config's"
            + " default_workflow; '' for none, where the config does not require one.")
    String workflow;

    @Option(names = "--hash-type", paramLabel = "TYPE", defaultValue = "sha2-256-chunked",
            description = "Checksum type for new rows (default sha2-256-chunked).")
    String hashType;

    @Override
    public Integer call() throws Exception {
        if (meta != null && metaFile != null) {
            throw new CliException(ExitCodes.USAGE, "use --meta or --meta-file, not both");
        }
        JsonNode userMeta = null;
        if (meta != null) {
            userMeta = parse(meta, "--meta");
        } else if (metaFile != null) {
            if (!Files.isRegularFile(metaFile)) {
                throw new CliException(ExitCodes.NOT_FOUND, "no such file: " + metaFile + " (--meta-file)");
            }
            userMeta = parse(Files.readString(metaFile), metaFile.toString());
        }
        java.util.List<String> rest = new java.util.ArrayList<>(java.util.List.of("-m", message, "--hash-type", hashType));
        if (workflow != null) {
            rest.add("--workflow");
            rest.add(workflow);
        }
        if (userMeta != null) {
            rest.add("--meta");
            rest.add(Json.MAPPER.writeValueAsString(userMeta));
        }
        Integer viaMount = throughMount(pkg, "commit", rest);
        if (viaMount != null) {
            return viaMount;
        }
        InstalledPackage p = installed(PackageName.parse(pkg));
        Output out = out();
        Commit.Result r;
        WorkflowChoice choice = WorkflowChoice.parse(workflow);
        try (Registry reg = registryFor(null, p)) {
            r = Commit.commit(p, message, userMeta, HashType.parseUserInput(hashType),
                    (meta, headStamp) -> check(reg, choice, p, meta, headStamp), progress(out));
        }
        var c = r.changes();
        if (!r.committed()) {
            out.line("nothing to commit: the working folder of " + p.name() + " matches its head " + r.topHash());
        } else {
            out.line(r.topHash());
            out.line("committed " + p.name() + "@" + r.topHash() + " (" + c.added().size() + " added, "
                    + c.modified().size() + " modified, " + c.removed().size() + " removed); publish it with"
                    + " `quiltfs push " + p.name() + "`");
        }
        var j = Json.object().put("package", p.name().toString()).put("top_hash", r.topHash())
                .put("committed", r.committed());
        j.set("added", array(c.added()));
        j.set("modified", array(c.modified()));
        j.set("removed", array(c.removed()));
        out.json(j);
        out.flush();
        return ExitCodes.OK;
    }

    /**
     * The workflow stamp from the registry's config. A commit is local work: when the registry
     * cannot be asked (offline), the head's stamp is kept and push, which needs the registry
     * anyway, checks it there (and asks for a new commit if the config disagrees).
     */
    private Workflows.Check check(Registry reg, WorkflowChoice choice, InstalledPackage p, JsonNode userMeta,
                                  JsonNode had) throws java.io.IOException {
        String unreachable;
        try {
            Workflows.Check check = Workflows.check(reg, sources(reg), choice, p.name(), message, userMeta);
            if (check.stamp() != null || had == null || workflow != null || registryHolds(reg, p.state().base)) {
                return check;
            }
            // No config, where the head has a stamp: a registry folder that is not there (an
            // unmounted disk) reads as one without a config. It must hold the base revision.
            unreachable = reg.uri() + " does not hold " + p.name() + "'s base revision " + p.state().base
                    + " (not mounted, or not reachable)";
        } catch (WorkflowException e) {
            if (!e.isUnreachable() || workflow != null) {
                throw e; // a refusal, a damaged config, or a workflow the user named and cannot be checked
            }
            unreachable = Cli.message(e);
        }
        if (!offlineWarned) {
            offlineWarned = true;
            warn(unreachable + "; committing with the head's workflow stamp as it is (push checks it against the"
                    + " registry's workflows config)");
        }
        return Workflows.Check.keeping(had);
    }

    private static boolean registryHolds(Registry reg, String base) {
        try {
            return base == null || reg.hasManifest(base);
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private boolean offlineWarned;

    private static JsonNode parse(String text, String what) {
        try {
            return Json.parse(text);
        } catch (RuntimeException e) {
            throw new CliException(ExitCodes.USAGE, what + ": " + Cli.message(e)); // "--meta: invalid JSON: ..."
        }
    }
}
