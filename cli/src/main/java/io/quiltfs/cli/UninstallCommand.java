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
            + "uncommitted changes or unpushed commits unless --force, and while the package is mounted for "
            + "editing. Cached objects stay."})
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
        java.nio.file.Path area = home().mountArea(name).toAbsolutePath().normalize();
        Uninstall.Result r;
        if (java.nio.file.Paths.get(p.state().workDir).toAbsolutePath().normalize().equals(area)) {
            r = uninstallMounted(p, area);
        } else {
            r = Uninstall.uninstall(p, force);
        }
        // One line: a folder name holding a newline (or another control) as a shell word ($'a\nb').
        String dir = r.workDir().toString();
        String shown = dir.chars().anyMatch(c -> c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029)
                ? io.quiltfs.store.workflow.Install.shellWord(dir) : dir;
        out.line("uninstalled " + p.name() + " (" + switch (r.fate()) {
            case REMOVED -> "removed " + shown;
            case EMPTIED -> "emptied " + shown + ", a mount point, which stays";
            case LEFT -> "left " + shown + " alone: it is " + (java.nio.file.Files.isSymbolicLink(r.workDir())
                    ? "a symbolic link" + target(r.workDir()) + ", not a folder; delete the files there yourself if"
                    + " you no longer need them" : "not a folder");
            case ABSENT -> "its working folder " + shown + " was gone already";
        } + "; cached objects kept)");
        if (!r.discardedCommits().isEmpty()) {
            int n = r.discardedCommits().size();
            out.line("discarded " + n + " local commit" + (n == 1 ? "" : "s") + " never pushed (head "
                    + r.discardedCommits().get(n - 1) + ")");
        }
        if (r.discardedChanges() != null && !r.discardedChanges().isEmpty()) {
            out.line("discarded the uncommitted changes: " + Uninstall.describe(r.discardedChanges()));
        }
        var j = Json.object().put("package", p.name().toString()).put("work_dir", r.workDir().toString())
                .put("uninstalled", true).put("work_dir_fate", r.fate().name().toLowerCase(java.util.Locale.ROOT));
        j.set("discarded_commits", array(r.discardedCommits()));
        var ch = r.discardedChanges();
        if (ch == null) {
            j.putNull("discarded_changes");
        } else {
            j.putObject("discarded_changes").<com.fasterxml.jackson.databind.node.ObjectNode>set("added", array(ch.added()))
                    .<com.fasterxml.jackson.databind.node.ObjectNode>set("modified", array(ch.modified()))
                    .set("removed", array(ch.removed()));
        }
        out.json(j);
        out.flush();
        return ExitCodes.OK;
    }

    /** " to TARGET" for a symbolic link, or nothing when it cannot be read. */
    private static String target(java.nio.file.Path link) {
        try {
            return " to " + java.nio.file.Files.readSymbolicLink(link);
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return "";
        }
    }

    /**
     * A package edited through a mount: its working area holds private copies and a journal, not
     * the package's files, so it is never removed under a running mount (whose edits would go
     * nowhere), and its uncommitted changes are the keys its journal names.
     */
    private Uninstall.Result uninstallMounted(InstalledPackage p, java.nio.file.Path area) throws java.io.IOException {
        try (io.quiltfs.store.state.HomeLock lock = io.quiltfs.store.state.HomeLock.tryAcquire(area.resolve("lock"))) {
            if (lock == null) {
                java.nio.file.Path mp = MountEditing.liveMountOf(home(), p.name());
                throw new CliException(ExitCodes.CONFLICT, p.name() + " is mounted for editing"
                        + (mp != null ? " at " + mp : " (the mount is starting or stopping)")
                        + "; unmount it first (`quiltfs unmount MOUNTPOINT`), then uninstall it");
            }
            // Read here, under the area's lock: the folder-based check would take the area's own
            // files (journal, copies) for added files and the package's files for removed.
            io.quiltfs.store.workflow.Status.Changes changes = p.state().uninstalling ? null
                    : MountEditing.changes(p, area);
            if (!force && !p.state().uninstalling && p.state().commits.isEmpty() && !changes.isEmpty()) {
                throw new CliException(ExitCodes.CONFLICT, p.name() + " has uncommitted changes in the working area"
                        + " of its mount, " + area + " (" + Uninstall.describe(changes) + "); mount it to commit and"
                        + " push them, or use --force to discard them");
            }
            Uninstall.Result r = Uninstall.uninstall(p, force || p.state().commits.isEmpty());
            return new Uninstall.Result(r.workDir(), r.fate(), r.discardedCommits(), changes);
        }
    }
}
