package io.quiltfs.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.workflow.InstalledPackage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.function.Function;

/** What the workflow commands share: the installed package, its registry, object sources. */
abstract class PackageCommand extends BaseCommand {
    InstalledPackage installed(PackageName name) throws IOException {
        return InstalledPackage.require(home(), name);
    }

    /** The registry named on the command line, else the one the package was installed from. */
    Registry registryFor(String option, InstalledPackage p) throws IOException {
        if (option != null) {
            return openRegistry(option);
        }
        if (p == null) {
            throw new CliException(ExitCodes.USAGE, "name the registry with --registry (the package is not installed"
                    + " in " + home().root() + ")");
        }
        return openRegistry(p.state().registry);
    }

    /** Finds a source for any physical key: the registry itself when it can read it. */
    Function<PhysicalKey, ObjectSource> sources(Registry registry) {
        return pk -> {
            try {
                return Registries.sourceFor(pk, registry, root().s3());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    /**
     * Runs {@code verb} on a mount when {@code target} is a quiltfs mount point, or names a
     * package edited through a mount (sent to the live mount, else run here on its working
     * area); returns the exit code, or null when {@code target} is an ordinary package.
     */
    Integer throughMount(String target, String verb, java.util.List<String> rest) throws IOException {
        java.util.List<String> words = new java.util.ArrayList<>();
        if (root().json) {
            words.add("--json");
        }
        words.add(verb);
        words.addAll(rest);
        java.nio.file.Path mp = MountEditing.mountAt(target);
        if (mp == null) {
            PackageName name;
            try {
                name = PackageName.parse(target);
            } catch (RuntimeException e) {
                mp = byRealPath(target, verb, false);
                if (mp == null && java.nio.file.Files.isDirectory(java.nio.file.Paths.get(target))) {
                    // Most often a mount point whose mount stopped (its process killed): not a bad name.
                    throw new CliException(ExitCodes.NOT_FOUND, target + " is not a quiltfs mount now (a mount whose"
                            + " process ended is gone; mount the package again: edits it had not committed come back)"
                            + " nor a package name (ns/name)");
                }
                name = null;
            }
            if (name != null) {
                java.nio.file.Path area = home().mountArea(name);
                InstalledPackage p = InstalledPackage.find(home(), name);
                if (p == null) {
                    mp = byRealPath(target, verb, true); // `mnt/data` reads as a package name too
                } else if (InstalledPackage.isAttached(area)
                        || !java.nio.file.Paths.get(p.state().workDir).toAbsolutePath().normalize().equals(area)) {
                    return null;
                } else {
                    mp = MountEditing.liveMountOf(home(), name);
                    if (mp == null) {
                        return offline(p, area, words);
                    }
                }
            }
            if (mp == null) {
                return null;
            }
        }
        if (java.nio.file.Files.notExists(mp.resolve(io.quiltfs.fs.PackageFs.RESERVED).resolve("ctl"))) {
            // (not when it cannot be told: a mount whose process stopped answers ENOTCONN, which send explains)
            throw readOnly(mp, verb);
        }
        MountEditing.Result r = MountEditing.send(mp, words);
        print(r);
        return r.exit();
    }

    /**
     * The quiltfs mount point that {@code target} reaches through a symbolic link, else null;
     * refuses a folder (or file) inside a quiltfs mount: the verbs act on a whole package, so
     * {@code quiltfs commit .} in a folder of the mount names the mount point instead of reading
     * as a stopped mount or a package not installed. {@code aName}: {@code target} reads as the
     * name of a package this home does not have (said, in case the name was meant).
     */
    private static java.nio.file.Path byRealPath(String target, String verb, boolean aName) {
        MountEditing.Holder h = MountEditing.mountHolding(target);
        if (h == null) {
            return null;
        }
        if (h.at()) {
            return h.mountpoint();
        }
        throw new CliException(ExitCodes.USAGE, target + " is inside the quiltfs mount at " + h.mountpoint()
                + (aName ? " (no package " + target + " is installed in this home)" : "") + "; " + verb
                + " acts on the whole package: give the mount point (`quiltfs " + verb + " "
                + shellWord(h.mountpoint().toString()) + "`) or the package name");
    }

    /**
     * Why a read-only mount takes no verb, and where it goes instead: a package installed in a
     * folder of this home (what makes a mount read-only without --read-only) is edited, committed
     * and pushed there. Those hints only for a mount this home made (its record is in
     * {@link io.quiltfs.store.state.Home#mounts}): another home's installs and mounts are not
     * this one's. A bind mount of a folder of a quiltfs mount has no control files either: the
     * mount point itself is named.
     */
    private CliException readOnly(java.nio.file.Path mp, String verb) {
        CliException bind = bindOfAFolder(mp, verb);
        if (bind != null) {
            return bind;
        }
        String pkg = MountEditing.attribute(mp, "quilt.package");
        InstalledPackage p = null;
        try {
            p = pkg == null || !ours(mp) ? null : InstalledPackage.find(home(), PackageName.parse(pkg));
        } catch (IOException | RuntimeException e) {
            p = null;
        }
        if (p != null && !java.nio.file.Paths.get(p.state().workDir).toAbsolutePath().normalize()
                .equals(home().mountArea(p.name()))) {
            return new CliException(ExitCodes.CONFLICT, "the mount at " + mp + " is read-only (it has no .quiltfs/ctl):"
                    + " " + pkg + " is installed in " + p.state().workDir + " in this home; run `quiltfs " + verb + " "
                    + shellWord(pkg) + "` for it there");
        }
        java.nio.file.Path editable = null;
        try {
            editable = p == null ? null : MountEditing.liveMountOf(home(), p.name());
        } catch (IOException | RuntimeException e) {
            editable = null;
        }
        if (editable != null) {
            return new CliException(ExitCodes.CONFLICT, "the mount at " + mp + " is read-only (it has no .quiltfs/ctl):"
                    + " " + pkg + " is mounted for editing at " + editable + "; run `quiltfs " + verb + " "
                    + shellWord(editable.toString()) + "`");
        }
        return new CliException(ExitCodes.CONFLICT, "the mount at " + mp + " is read-only: it has no .quiltfs/ctl"
                + " (mount the package without --read-only to edit it)");
    }

    /** Whether this home made the mount at {@code mp} (its record is in the home's mounts). */
    private boolean ours(java.nio.file.Path mp) {
        if (java.nio.file.Files.isRegularFile(DaemonCommand.stateFile(home(), mp))) {
            return true;
        }
        try {
            return java.nio.file.Files.isRegularFile(DaemonCommand.stateFile(home(), mp.toRealPath()));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * When {@code mp} is a bind mount of a folder of a quiltfs mount (the mount table's root for it
     * is not "/"), the refusal naming that folder and the quiltfs mount point (when one shows the
     * same file system whole); else null.
     */
    private static CliException bindOfAFolder(java.nio.file.Path mp, String verb) {
        try {
            java.util.List<io.quiltfs.store.state.MountTable.Mount> all = io.quiltfs.store.state.MountTable.read();
            io.quiltfs.store.state.MountTable.Mount m = io.quiltfs.store.state.MountTable.at(all, mp);
            if (m == null || m.root().equals("/")) {
                return null;
            }
            java.nio.file.Path whole = all.stream().filter(o -> o.device().equals(m.device()) && o.root().equals("/"))
                    .map(io.quiltfs.store.state.MountTable.Mount::mountpoint).findFirst().orElse(null);
            return new CliException(ExitCodes.USAGE, mp + " is a bind mount of the folder " + m.root()
                    + " of a quiltfs mount; " + verb + " acts on the whole package: give the quiltfs mount point"
                    + (whole == null ? " itself" : " (`quiltfs " + verb + " " + shellWord(whole.toString()) + "`)")
                    + " or the package name");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String shellWord(String w) {
        return io.quiltfs.store.workflow.Install.shellWord(w);
    }

    /** The report on stdout (also with a non-zero exit: a status over a damaged latest), warnings on stderr. */
    private void print(MountEditing.Result r) {
        java.io.PrintWriter err = spec.commandLine().getErr();
        err.print(r.errors());
        err.flush();
        java.io.PrintWriter out = spec.commandLine().getOut();
        out.print(r.output());
        out.flush();
    }

    /** No mount serves the package now: its working area is opened here, as a mount would. */
    private Integer offline(InstalledPackage p, java.nio.file.Path area, java.util.List<String> words)
            throws IOException {
        try (io.quiltfs.store.state.HomeLock lock = io.quiltfs.store.state.HomeLock.tryAcquire(area.resolve("lock"))) {
            if (lock == null) {
                throw new CliException(ExitCodes.CONFLICT, p.name() + " is being edited through a mount that is"
                        + " starting or stopping; try again");
            }
            try (Registry reg = openRegistry(p.state().registry);
                 io.quiltfs.fs.PackageFs fs = io.quiltfs.fs.PackageMount.openEditable(home(), reg, root().s3(),
                         p.name(), p.state().head, new io.quiltfs.fs.MountSettings(
                                 io.quiltfs.fs.MountSettings.defaultCacheBytes(home().objects()),
                                 io.quiltfs.fs.MountSettings.DEFAULT_STALL_MILLIS))) {
                MountControl control = new MountControl(home(), root().endpoint, fs);
                MountEditing.Result r = MountEditing.Result.parse(control.run(words));
                print(r);
                return r.exit();
            } finally {
                InstalledPackage.detach(area);
            }
        }
    }

    static ArrayNode array(Collection<String> items) {
        ArrayNode a = Json.NODES.arrayNode();
        items.forEach(a::add);
        return a;
    }
}
