package io.quiltfs.cli;

import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.workflow.InstalledPackage;
import io.quiltfs.store.workflow.Pull;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Take in the registry's latest revision.",
            "Writes the remote's changes into the working folder without touching your edits. Refuses "
            + "(exit 3), naming the keys, when a key changed both here (committed or not) and remotely. "
            + "With local commits, makes one merged local commit to push. A pull that stopped half-way (killed, "
            + "or a file it could not write) is finished by running it again; --abandon gives it up instead."})
final class PullCommand extends PackageCommand {
    @Parameters(index = "0", paramLabel = "NS/NAME|MOUNTPOINT",
            description = "An installed package, or the mount point of an editable mount.")
    String pkg;

    @picocli.CommandLine.Option(names = "--abandon", description = "Give up a pull that stopped half-way and cannot"
            + " finish (its revision is gone from the registry): the files it already changed go back to the head's"
            + " content, edits made since are left alone (refused, named, when one is in the way), and the package"
            + " is no longer marked as pulling. Run again if it is stopped.")
    boolean abandon;

    @Override
    public Integer call() throws Exception {
        Integer viaMount = throughMount(pkg, "pull", abandon ? java.util.List.of("--abandon") : java.util.List.of());
        if (viaMount != null) {
            return viaMount;
        }
        InstalledPackage p = installed(PackageName.parse(pkg));
        Output out = out();
        try (Registry reg = registryFor(null, p)) {
            Pull.Result r = abandon ? Pull.abandon(p, reg, sources(reg), progress(out))
                    : Pull.pull(p, reg, sources(reg), progress(out));
            boolean changed = r.pulled() || !(r.updated().isEmpty() && r.deleted().isEmpty());
            out.line(r.message() + (changed ? " (" + r.updated().size() + (r.updated().size() == 1 ? " file" : " files") + " written, "
                    + r.deleted().size() + " removed)" : ""));
            var j = Json.object().put("package", p.name().toString()).put("registry", reg.uri())
                    .put("head", r.head()).put("latest", r.latest()).put("pulled", r.pulled())
                    .put("merged", r.merged()).put("message", r.message());
            j.set("updated", array(r.updated()));
            j.set("deleted", array(r.deleted()));
            j.set("placed_of_batch", array(r.placedOfBatch()));
            j.set("put_back", array(r.putBack()));
            out.json(j);
            out.flush();
        }
        return ExitCodes.OK;
    }
}
