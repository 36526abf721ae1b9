package io.quiltfs.cli;

import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.workflow.InstalledPackage;
import io.quiltfs.store.workflow.Uninstall;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "uninstall", mixinStandardHelpOptions = true,
        description = {"Forget an installed package and remove its working folder.",
            "Removes the working folder, local manifests and lineage entry. Refuses (exit 3) with "
            + "uncommitted changes or unpushed commits unless --force. Cached objects stay."})
final class UninstallCommand extends PackageCommand {
    @Parameters(index = "0", paramLabel = "NS/NAME", description = "An installed package.")
    String pkg;

    @Option(names = "--force", description = "Discard uncommitted changes and unpushed commits.")
    boolean force;

    @Override
    public Integer call() throws Exception {
        PackageName name = PackageName.parse(pkg);
        InstalledPackage p = InstalledPackage.find(home(), name); // an interrupted uninstall too
        if (p == null) {
            throw new io.quiltfs.store.workflow.NotInstalledException(name);
        }
        Output out = out();
        boolean skipWalk = false;
        java.nio.file.Path area = home().mountArea(name);
        if (java.nio.file.Paths.get(p.state().workDir).toAbsolutePath().normalize().equals(area)
                && !p.state().uninstalling) {
            // Edited through a mount: the area is not a working folder (walking it would take its
            // journal for added files and the package's files for removed ones); its journal says
            // what changed, as `unmount` reports it.
            java.nio.file.Path mp = MountEditing.liveMountOf(home(), name);
            if (mp != null) {
                throw new CliException(ExitCodes.CONFLICT, name + " is mounted for editing at " + mp
                        + "; unmount it first (`quiltfs unmount " + mp + "`)");
            }
            int changed = MountEditing.changedKeys(area);
            if (changed > 0 && !force && p.state().commits.isEmpty()) {
                throw new CliException(ExitCodes.CONFLICT, name + " has uncommitted changes made through a mount ("
                        + changed + (changed == 1 ? " key" : " keys") + " changed, kept in " + area + "); mount it and"
                        + " commit and push them, or use --force to discard them");
            }
            skipWalk = p.state().commits.isEmpty();
        }
        Uninstall.Result r = Uninstall.uninstall(p, force || skipWalk);
        out.line("uninstalled " + p.name() + " (removed " + r.workDir() + "; cached objects kept)");
        out.json(Json.object().put("package", p.name().toString()).put("work_dir", r.workDir().toString())
                .put("uninstalled", true));
        out.flush();
        return ExitCodes.OK;
    }
}
