package io.quiltfs.cli;

import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.workflow.InstalledPackage;
import io.quiltfs.store.workflow.Push;
import java.time.Clock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "push", mixinStandardHelpOptions = true,
        description = {"Publish the local head to the package's registry.",
            "Uploads what the registry lacks, then the manifest, a timestamp pointer and latest. If "
            + "the registry's latest moved since your base, nothing is moved and the exit code is 3 "
            + "(Diverged); --force makes this revision latest anyway."})
final class PushCommand extends PackageCommand {
    @Parameters(index = "0", paramLabel = "NS/NAME|MOUNTPOINT",
            description = "An installed package, or the mount point of an editable mount.")
    String pkg;

    @Option(names = "--force", description = "Make this revision latest even if the registry moved on.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        Integer viaMount = throughMount(pkg, "push", force ? java.util.List.of("--force") : java.util.List.of());
        if (viaMount != null) {
            return viaMount;
        }
        InstalledPackage p = installed(PackageName.parse(pkg));
        Output out = out();
        try (Registry reg = registryFor(null, p)) {
            Push.Result r = Push.push(p, reg, sources(reg), force, Clock.systemUTC(), progress(out));
            out.line(r.message() + (!r.pushed() ? "" : r.uploaded() == 0 ? " (no data to upload: the registry had it)"
                    : " (uploaded " + r.uploaded() + (r.uploaded() == 1 ? " object, " : " objects, ")
                    + ProgressBar.human(r.uploadedBytes()) + ")"));
            out.json(Json.object().put("package", p.name().toString()).put("registry", reg.uri())
                    .put("top_hash", r.topHash()).put("pushed", r.pushed()).put("uploaded", r.uploaded())
                    .put("uploaded_bytes", r.uploadedBytes()).put("message", r.message()));
            out.flush();
        }
        return ExitCodes.OK;
    }
}
