package io.quiltfs.store.workflow;

import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.HomeLock;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.state.PackageState;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * {@code uninstall}: forgets a package's working state: its lineage entry, local manifests,
 * hash cache and working folder. Refuses when that would lose work (uncommitted changes, local
 * commits not pushed) unless forced. Cached objects stay: other packages may share them.
 */
public final class Uninstall {
    private Uninstall() {
    }

    /** What became of the working folder. */
    public enum Fate {
        /** Deleted with everything in it. */
        REMOVED,
        /** Emptied; the folder stays, being a mount point. */
        EMPTIED,
        /**
         * Left alone: a symbolic link or a file stands at its path (put there after the install,
         * or a --dest that was a link): what it leads to is not known to be the package's.
         */
        LEFT,
        /** It was gone already. */
        ABSENT
    }

    /**
     * Outcome: the working folder and what became of it, the local commits that were never
     * pushed (discarded by --force), and the uncommitted changes it held (discarded by --force;
     * null when they could not be told: a mount's working area, a folder that could not be read).
     */
    public record Result(Path workDir, Fate fate, java.util.List<String> discardedCommits,
                         Status.Changes discardedChanges) {
    }

    /** How many keys of each kind a message names before "and N more". */
    private static final int NAMED = 3;

    /** The changed keys of {@code c} for a message: "added 'a', 'b'; removed 'c', 'd', 'e' and 3 more". */
    public static String describe(Status.Changes c) {
        java.util.List<String> parts = new java.util.ArrayList<>();
        for (var kind : java.util.List.of(java.util.Map.entry("added", c.added()),
                java.util.Map.entry("modified", c.modified()), java.util.Map.entry("removed", c.removed()))) {
            java.util.List<String> keys = kind.getValue();
            if (!keys.isEmpty()) {
                StringBuilder b = new StringBuilder(kind.getKey());
                for (int i = 0; i < Math.min(NAMED, keys.size()); i++) {
                    b.append(i == 0 ? " '" : ", '").append(keys.get(i)).append('\'');
                }
                parts.add(b + (keys.size() > NAMED ? " and " + (keys.size() - NAMED) + " more" : ""));
            }
        }
        return String.join("; ", parts);
    }

    public static Result uninstall(InstalledPackage pkg, boolean force) throws IOException {
        Home home = pkg.home();
        try (HomeLock lock = HomeLock.acquire(home.packageLock(pkg.name()))) {
            InstalledPackage p = InstalledPackage.find(home, pkg.name());
            if (p == null) {
                throw new NotInstalledException(pkg.name());
            }
            PackageState s = p.state();
            // An uninstall killed half-way: its decision stands (the folder may be partly gone).
            if (!force && !s.uninstalling) {
                if (!s.commits.isEmpty()) {
                    throw new ConflictException(p.name() + " has " + s.commits.size() + " local commit"
                            + (s.commits.size() == 1 ? "" : "s") + " not pushed (head " + s.head + "); push "
                            + (s.commits.size() == 1 ? "it" : "them") + " with"
                            + " `quiltfs push " + p.name() + "` or use --force to discard "
                            + (s.commits.size() == 1 ? "it" : "them"));
                }
                Status.Changes c;
                try {
                    c = Status.changes(p, HashType.SHA2_256_CHUNKED);
                } catch (MissingWorkFolderException gone) {
                    c = null; // no working folder, no uncommitted changes to lose
                } catch (IOException e) {
                    throw new ConflictException("cannot check " + p.name() + " for uncommitted changes (" + e.getMessage()
                            + "); use --force to uninstall anyway");
                }
                if (c != null && !c.isEmpty()) {
                    throw new ConflictException(p.name() + " has uncommitted changes in " + s.workDir + " ("
                            + describe(c) + "); commit and push them, or use --force to discard them (it deletes"
                            + " the working folder with every file in it)");
                }
            }
            Status.Changes lost = null;
            if (force && !s.uninstalling && !Paths.get(s.workDir).toAbsolutePath().normalize()
                    .equals(home.mountArea(p.name()).toAbsolutePath().normalize())) {
                // Only to say what --force discards: a folder that cannot be read is removed anyway.
                try {
                    lost = Status.changes(p, HashType.SHA2_256_CHUNKED);
                } catch (IOException | RuntimeException unknown) {
                    lost = null;
                }
            }
            // The decision is recorded first and the entry removed last: a kill in between leaves
            // a package that refuses other verbs and that `uninstall` run again finishes, never a
            // folder and local manifests that no command knows about any more.
            Lineage.update(home, l -> {
                PackageState now = l.get(p.name());
                if (now != null) {
                    now.uninstalling = true;
                    l.put(p.name(), now);
                }
                return null;
            });
            Checkpoints.reach("uninstall.after-mark");
            Path work = Paths.get(s.workDir);
            Fate fate = Files.exists(work, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? Fate.LEFT : Fate.ABSENT;
            if (Files.isDirectory(work, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                try {
                    fate = deleteTree(work) ? Fate.EMPTIED : Fate.REMOVED;
                } catch (OtherFileSystem mounted) {
                    throw new ConflictException("the working folder of " + p.name() + " holds " + mounted.dir
                            + ", the mount point of another file system, whose files are not the package's:"
                            + " unmount it, then run `quiltfs uninstall " + p.name() + "` again to finish");
                }
            }
            Files.deleteIfExists(home.hashCache(p.name()));
            deleteTree(home.installedDir(p.name()));
            Lineage.update(home, l -> {
                l.remove(p.name());
                return null;
            });
            return new Result(work, fate, java.util.List.copyOf(s.commits), lost);
        }
    }

    /** What every other verb says about a package whose uninstall was interrupted. */
    static ConflictException unfinished(io.quiltfs.store.registry.PackageName pkg) {
        return new ConflictException("the uninstall of " + pkg + " did not finish (its working folder may be"
                + " partly deleted): run `quiltfs uninstall " + pkg + "` to finish it");
    }

    /** A folder below the one being deleted that is another file system's mount point. */
    static final class OtherFileSystem extends IOException {
        final Path dir;

        OtherFileSystem(Path dir) {
            super(dir + " is the mount point of another file system");
            this.dir = dir;
        }
    }

    /**
     * Deletes {@code root} and everything below it, but never crosses into another file system
     * mounted below it (a bind mount, a quiltfs mount, a network share: someone's files, which
     * the package's folder only shows): {@link OtherFileSystem}, and nothing on it is touched.
     * A {@code root} that is itself a mount point (a disk given as {@code --dest}) is emptied and
     * stays: it cannot be removed while mounted, and an uninstall must not stop there for good.
     * Returns whether {@code root} stayed so.
     */
    static boolean deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        Object rootDevice = device(root);
        Path parent = root.toAbsolutePath().getParent();
        boolean[] kept = {parent != null && rootDevice != null && !rootDevice.equals(device(parent))};
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
                if (rootDevice != null && !rootDevice.equals(device(d))) {
                    throw new OtherFileSystem(d);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                Files.delete(f);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                if (d.equals(root) && kept[0]) {
                    return FileVisitResult.CONTINUE;
                }
                try {
                    Files.delete(d);
                } catch (java.nio.file.FileSystemException busy) {
                    // A mount point that st_dev does not tell (a bind mount of the same disk).
                    if (!d.equals(root) || !"Device or resource busy".equals(busy.getReason())) {
                        throw busy;
                    }
                    kept[0] = true;
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return kept[0];
    }

    /** The device {@code p} is on (st_dev), or null where the file system does not say. */
    private static Object device(Path p) throws IOException {
        try {
            return Files.getAttribute(p, "unix:dev", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException | IllegalArgumentException notUnix) {
            return null;
        }
    }
}
