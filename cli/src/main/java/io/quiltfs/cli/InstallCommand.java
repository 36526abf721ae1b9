package io.quiltfs.cli;

import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.workflow.Install;
import io.quiltfs.store.workflow.InstalledPackage;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "install", mixinStandardHelpOptions = true,
        description = {"Install a package revision into a working folder.",
            "All of it, or the keys matching --path (run again with more --path to fetch more). "
            + "Objects come through the object cache: content already cached is never fetched again, "
            + "and every fetched object is verified."})
final class InstallCommand extends PackageCommand {
    @Parameters(index = "0", paramLabel = "NS/NAME[@HASH|:TAG]",
            description = "The package: its latest revision, one top hash (or a unique prefix of 6+ hex digits), or a tag.")
    String ref;

    @Option(names = {"-r", "--registry"}, paramLabel = "REGISTRY",
            description = "file:///abs/path, a local path, or s3://bucket (needed unless already installed).")
    String registry;

    @Option(names = "--dest", paramLabel = "DIR", description = "The working folder (default HOME/work/NS/NAME).")
    Path dest;

    @Option(names = "--path", paramLabel = "GLOB",
            description = "Only the logical keys matching GLOB (a folder covers what is under it; * within a folder,"
                    + " ** across folders, **/ also none). Repeatable.")
    List<String> paths;

    @Override
    public Integer call() throws Exception {
        PackageRef r = PackageRef.parse(ref);
        InstalledPackage existing = InstalledPackage.find(home(), r.name());
        Output out = out();
        try (Registry reg = registryFor(registry, existing)) {
            Install.Result res = Install.install(home(), reg, r, dest, paths, sources(reg), progress(out));
            out.line("installed " + r.name() + "@" + res.topHash() + " into " + res.workDir() + " ("
                    + res.matched() + (res.matched() == 1 ? " file" : " files") + (res.filter().all() ? "" : " matching " + res.filter().globs())
                    + "; " + res.placed() + " written, " + res.fetched() + " fetched)");
            if (res.keptRemoved() > 0) {
                out.line("kept " + res.keptRemoved() + (res.keptRemoved() == 1 ? " file" : " files") + " removed here"
                        + " since (see `quiltfs status " + r.name() + "`; `quiltfs install " + r.name()
                        + " --path KEY` puts one back)");
            }
            var j = Json.object().put("package", r.name().toString()).put("registry", reg.uri())
                    .put("top_hash", res.topHash()).put("work_dir", res.workDir().toString())
                    .put("files", res.matched()).put("written", res.placed()).put("written_bytes", res.placedBytes())
                    .put("fetched", res.fetched()).put("kept_removed", res.keptRemoved());
            j.set("paths", res.filter().all() ? Json.NODES.nullNode() : array(res.filter().globs()));
            out.json(j);
            out.flush();
        }
        return ExitCodes.OK;
    }
}
