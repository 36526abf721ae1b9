package io.quiltfs.cli;

import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.LogicalKey;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.workflow.InstalledPackage;
import io.quiltfs.store.workflow.Status;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show what changed in a working folder and where the package stands.",
            "Lists the added, modified and removed keys against the local head, and the state against "
            + "the registry: UpToDate, Ahead, Behind, Diverged or Local.",
            "With --json, `conflicts` lists the keys a pull would refuse (while a pull is unfinished: the keys "
            + "finishing it would refuse), null when not known (--offline, or the unfinished pull's manifests are "
            + "gone from the home and the registry: its files are then listed as changes); `put_back` lists removed "
            + "keys that finishing an unfinished pull places again. A damaged `latest` pointer in the registry leaves "
            + "the state unknown (`state` null, the pointer in `problems`, exit 1); the local changes are still shown."})
final class StatusCommand extends PackageCommand {
    @Parameters(index = "0", paramLabel = "NS/NAME|MOUNTPOINT",
            description = "An installed package, or the mount point of an editable mount.")
    String pkg;

    @Option(names = "--offline", description = "Do not ask the registry; use the latest seen by the last install,"
            + " push or pull.")
    boolean offline;

    @Override
    public Integer call() throws Exception {
        Integer viaMount = throughMount(pkg, "status", offline ? List.of("--offline") : List.of());
        if (viaMount != null) {
            return viaMount;
        }
        InstalledPackage p = installed(PackageName.parse(pkg));
        Output out = out();
        Status.Report r;
        if (offline) {
            r = Status.report(p, null, HashType.SHA2_256_CHUNKED);
        } else {
            try (Registry reg = registryFor(null, p)) {
                r = Status.report(p, reg, HashType.SHA2_256_CHUNKED);
            } catch (io.quiltfs.store.registry.RegistryException e) {
                if (e instanceof io.quiltfs.store.registry.RegistryException.NotFound) {
                    throw e;
                }
                // Offline, or the registry refuses: the local changes can still be shown.
                throw new CliException(ExitCodes.FAILURE, Cli.message(e) + "; `quiltfs status " + p.name()
                        + " --offline` shows the local changes without asking the registry", e);
            }
        }
        io.quiltfs.store.registry.RegistryException.BadPointer damaged = r.damaged();
        // A damaged latest leaves the state unknown, not the local changes: they are shown, the
        // pointer is named once (a warning), and the exit is FAILURE as browse and log give for it.
        com.fasterxml.jackson.databind.node.ArrayNode problems = badPointers(damaged == null ? List.of()
                : List.of(damaged));
        out.line(r.pkg() + ": " + (r.state() == null ? "state unknown" : r.state().label()) + " (" + r.registry() + ")");
        out.line("  working folder " + r.workDir());
        out.line("  head   " + r.head() + (r.unpushed().isEmpty() ? "" : "  (" + r.unpushed().size()
                + " local commit" + (r.unpushed().size() == 1 ? "" : "s") + " not pushed)"));
        out.line("  base   " + (r.base() == null ? "(none: never pushed)" : r.base()));
        out.line("  latest " + (damaged != null ? "(unknown: the registry's latest pointer is damaged (see the warning);"
                + " `quiltfs push " + r.pkg() + " --force` replaces it)"
                : (r.latest() == null ? "(none)" : r.latest()) + (offline ? " (as last seen)" : "")));
        if (r.paths() != null) {
            out.line("  paths  " + r.paths().stream().map(io.quiltfs.store.workflow.Install::shellWord)
                    .collect(java.util.stream.Collectors.joining(" ")) + "  (partial install: `quiltfs install " + r.pkg()
                    + " --path GLOB` fetches more)");
        }
        Status.Changes c = r.changes();
        if (r.installing()) {
            out.line("the install did not finish: run `" + io.quiltfs.store.workflow.Install.finishCommand(p)
                    + "` to fetch the missing files");
        }
        if (r.pullUntold()) {
            out.line(io.quiltfs.store.workflow.Pull.untoldLine(r.pkg(), r.pulling()));
        } else if (r.pulling() != null) {
            out.line(io.quiltfs.store.workflow.Pull.unfinishedLine(r.pkg(), r.pulling())
                    + " (the files it already wrote are not listed below)");
        }
        if (c.isEmpty() && r.pulling() != null) {
            out.line(r.putBack().isEmpty() ? "no changes of your own" : "no other changes of your own");
        } else if (c.isEmpty()) {
            out.line("nothing to commit: the working folder matches the head");
        } else {
            print(out, "added:    ", c.added());
            print(out, "modified: ", c.modified());
            List<String> removed = new java.util.ArrayList<>(c.removed());
            removed.removeAll(r.putBack());
            print(out, "removed:  ", removed);
        }
        if (!r.putBack().isEmpty()) {
            // Also when nothing else changed: a file the pull added, removed since, is no change of the head's.
            out.line("removed since the pull stopped, which finishing it puts back (remove "
                    + (r.putBack().size() == 1 ? "it" : "them") + " again afterwards if you meant to):");
            print(out, "put back: ", r.putBack());
        }
        java.nio.file.Path kept = io.quiltfs.fs.WorkArea.unjournaled(home().mountArea(r.pkg()));
        long unjournaled = unjournaled(kept);
        if (unjournaled > 0) {
            out.line("  unjournaled: " + unjournaled + " cop" + (unjournaled == 1 ? "y" : "ies") + " of saved edits in "
                    + kept + " (a damaged journal no longer named them; they are not in the package: copy what you"
                    + " need back, then delete the folder)");
        }
        List<String> conflicts = r.conflicts() == null ? List.of() : r.conflicts();
        if (!conflicts.isEmpty() && r.pulling() != null) {
            out.line(conflicts.size() + (conflicts.size() == 1 ? " key it takes in was" : " keys it takes in were")
                    + " changed here since the pull stopped, so finishing it refuses until you move your version"
                    + " aside (or undo it):");
            print(out, "both:     ", conflicts);
            out.line("or run `quiltfs pull " + r.pkg() + " --abandon` to give up that pull");
        } else if (!conflicts.isEmpty()) {
            out.line(conflicts.size() + (conflicts.size() == 1 ? " key was" : " keys were")
                    + " changed both here and in the registry's latest, so `quiltfs pull` refuses until you move"
                    + " your version aside (or undo it):");
            print(out, "both:     ", conflicts);
            out.line("or commit and run `quiltfs push " + r.pkg() + " --force` to make your revision latest anyway");
        } else if (r.pulling() == null && r.state() != null) {
            nextStep(out, r);
        }
        var j = Json.object().put("package", r.pkg().toString()).put("registry", r.registry())
                .put("work_dir", r.workDir()).put("state", r.state() == null ? null : r.state().label()).put("base", r.base())
                .put("head", r.head()).put("latest", r.latest()).put("install_finished", !r.installing())
                .put("pull_unfinished", r.pulling());
        j.set("paths", r.paths() == null ? null : array(r.paths()));
        j.set("unpushed", array(r.unpushed()));
        j.set("added", array(c.added()));
        j.set("modified", array(c.modified()));
        j.set("removed", array(c.removed()));
        j.set("conflicts", r.conflicts() == null ? null : array(r.conflicts()));
        j.set("put_back", array(r.putBack()));
        j.set("problems", problems);
        if (unjournaled > 0) {
            j.set("unjournaled", Json.object().put("path", kept.toString()).put("files", unjournaled));
        }
        out.json(j);
        out.flush();
        return damaged == null ? ExitCodes.OK : ExitCodes.FAILURE;
    }

    /** The command that takes the package forward from its state against the registry. */
    private static void nextStep(Output out, Status.Report r) {
        switch (r.state()) {
            case AHEAD -> out.line("run `quiltfs push " + r.pkg() + "` to publish your commits"
                    + (r.latest() == null ? " (the registry has no latest revision of it)" : ""));
            case BEHIND -> out.line("run `quiltfs pull " + r.pkg() + "` to take in the registry's latest");
            case DIVERGED -> out.line("run `quiltfs pull " + r.pkg() + "` to merge the registry's latest with your"
                    + " commits");
            case LOCAL -> out.line(r.base() == null ? "never pushed: run `quiltfs push " + r.pkg() + "` to publish it"
                    : "the registry has no latest revision of " + r.pkg() + " (deleted there, or not the registry it"
                    + " was installed from): `quiltfs push " + r.pkg() + " --force` makes your head its latest there");
            default -> { }
        }
    }

    /** Files in a mount area's {@code unjournaled/} folder (0 when it does not exist). */
    private static long unjournaled(java.nio.file.Path kept) throws java.io.IOException {
        if (!java.nio.file.Files.isDirectory(kept)) {
            return 0;
        }
        try (java.util.stream.Stream<java.nio.file.Path> s = java.nio.file.Files.list(kept)) {
            return s.count();
        }
    }

    private static void print(Output out, String label, List<String> keys) {
        for (String k : keys) {
            out.line("  " + label + LogicalKey.printable(k));
        }
    }
}
