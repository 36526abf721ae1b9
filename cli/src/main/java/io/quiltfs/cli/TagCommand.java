package io.quiltfs.cli;

import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.workflow.InstalledPackage;
import io.quiltfs.store.workflow.Tag;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "tag", mixinStandardHelpOptions = true,
        description = {"Name a revision in the registry, remove a name, or list them.",
            "`tag NS/NAME TAG [HASH]` (default: latest; or `tag NS/NAME@HASH TAG`), `tag --delete "
            + "NS/NAME TAG [HASH]` (with HASH: only if the tag names it), `tag NS/NAME`. A tagged revision can"
            + " then be named NS/NAME:TAG."})
final class TagCommand extends PackageCommand {
    @Parameters(index = "0", paramLabel = "NS/NAME",
            description = "The package (NS/NAME@HASH: the revision to tag).")
    String pkg;

    @Parameters(index = "1", arity = "0..1", paramLabel = "TAG",
            description = "The tag: up to 128 letters, digits, '.', '_' and '-', not starting with '.' (none: list the tags).")
    String tag;

    @Parameters(index = "2", arity = "0..1", paramLabel = "HASH", description = "A top hash, a unique prefix,"
            + " or NS/NAME:TAG (default: latest).")
    String target;

    @Option(names = "--delete", description = "Remove the tag (with HASH: only if it names that revision;"
            + " a tag re-pointed by someone else meanwhile is never removed).")
    boolean delete;

    @Option(names = {"-f", "--force"}, description = "Move a tag that already names another revision.")
    boolean force;

    @Option(names = {"-r", "--registry"}, paramLabel = "REGISTRY",
            description = "The registry (default: the one the package was installed from).")
    String registry;

    @Override
    public Integer call() throws Exception {
        PackageRef ref = PackageRef.parse(pkg);
        PackageName name = ref.name();
        // NS/NAME@HASH TAG (or NS/NAME:OTHER TAG) names the revision to tag, as HASH does.
        String revision = ref.isLatest() ? null : pkg;
        if (revision != null && (tag == null || delete || target != null)) {
            throw new CliException(ExitCodes.USAGE, tag == null ? "to list the tags of " + name + ", run `quiltfs tag "
                    + name + "`" : delete ? "--delete takes NS/NAME and TAG: `quiltfs tag --delete " + name + " " + tag
                    + "`" : "name the revision once: `quiltfs tag " + pkg + " " + tag + "` or `quiltfs tag " + name
                    + " " + tag + " " + target + "`");
        }
        if (revision != null) {
            target = revision;
        }
        Output out = out();
        try (Registry reg = registryFor(registry, InstalledPackage.find(home(), name))) {
            if (tag == null) {
                if (delete) {
                    throw new CliException(ExitCodes.USAGE, "name the tag to delete: quiltfs tag --delete " + name
                            + " TAG");
                }
                java.util.List<io.quiltfs.store.registry.RegistryException.BadPointer> bad = new java.util.ArrayList<>();
                Map<String, String> tags = reg.tags(name, bad::add);
                var j = Json.object();
                tags.forEach((t, h) -> {
                    out.line(t + "  " + h);
                    j.put(t, h);
                });
                var json = Json.object().put("package", name.toString()).put("registry", reg.uri());
                json.set("tags", j);
                json.set("problems", badPointers(bad));
                out.json(json);
                out.flush();
                // As browse and log: a failure when there were tags and none could be read.
                return tags.isEmpty() && !bad.isEmpty() ? ExitCodes.FAILURE : ExitCodes.OK;
            }
            if (delete) {
                if (target != null && !target.matches("[0-9a-f]{6,64}")) {
                    throw new CliException(ExitCodes.USAGE, "with --delete, HASH is the top hash (or a prefix of"
                            + " 6+ hex digits) the tag must name to be deleted, not '" + target + "'");
                }
                String was = Tag.delete(reg, name, tag, target);
                out.line("deleted tag '" + tag + "' of " + name + " in " + reg.uri()
                        + (was == null ? " (it held no top hash)" : " (it named " + was + ")"));
                out.json(Json.object().put("package", name.toString()).put("tag", tag).put("deleted", true)
                        .put("top_hash", was));
            } else {
                String top = Tag.set(reg, name, tag, target, force);
                out.line("tagged " + name + "@" + top + " as '" + tag + "' in " + reg.uri());
                out.json(Json.object().put("package", name.toString()).put("tag", tag).put("top_hash", top));
            }
            out.flush();
        }
        return ExitCodes.OK;
    }
}
