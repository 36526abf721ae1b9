package io.quiltfs.store.workflow;

import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.HomeLock;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.state.MountTable;
import io.quiltfs.store.state.PackageState;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

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
     * pushed (discarded by --force), and the uncommitted changes deleted with the folder (empty
     * when none were, the folder being clean, left alone or gone; null when they could not be
     * told: a folder that could not be read, an uninstall finishing one that was killed).
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

    /** Nothing: no change was discarded. */
    public static final Status.Changes NONE = new Status.Changes(java.util.List.of(), java.util.List.of(),
            java.util.List.of(), java.util.Map.of(), java.util.Map.of());

    public static Result uninstall(InstalledPackage pkg, boolean force) throws IOException {
        Home home = pkg.home();
        try (HomeLock lock = HomeLock.acquire(home.packageLock(pkg.name()))) {
            InstalledPackage p = InstalledPackage.find(home, pkg.name());
            if (p == null) {
                throw new NotInstalledException(pkg.name());
            }
            PackageState s = p.state();
            Path work = Paths.get(s.workDir);
            // Mounts first, before any hashing (which reads a bind-mounted tree too and would only
            // advise --force): what is mounted there is not the package's.
            refuseMounts(p, work);
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
                            + describe(c) + "); commit and push them, or use --force to " + whatForceDoes(work));
                }
            }
            Status.Changes lost = NONE;
            if (work.toAbsolutePath().normalize().equals(home.mountArea(p.name()).toAbsolutePath().normalize())) {
                lost = null; // a mount's working area: its journal tells (the caller reads it), not its files
            } else if (force && !s.uninstalling && Files.isDirectory(work, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                // Only to say what --force discards: a folder that cannot be read is removed anyway.
                try {
                    lost = Status.changes(p, HashType.SHA2_256_CHUNKED);
                } catch (MissingWorkFolderException gone) {
                    lost = NONE;
                } catch (IOException | RuntimeException unknown) {
                    lost = null;
                }
            } else if (s.uninstalling) {
                lost = null; // decided by a run that was killed: what it found is not known any more
            }
            Checkpoints.reach("uninstall.after-changes");
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
            // Again, now that the decision is recorded: hashing (--force on big files) may have
            // taken minutes, in which anything may have been mounted there. A refusal here has
            // deleted nothing: the mark is taken back (unless a killed run had made it).
            boolean keepRoot;
            try {
                keepRoot = refuseMounts(p, work);
            } catch (IOException | RuntimeException refused) {
                if (!s.uninstalling) {
                    Lineage.update(home, l -> {
                        PackageState now = l.get(p.name());
                        if (now != null) {
                            now.uninstalling = false;
                            l.put(p.name(), now);
                        }
                        return null;
                    });
                }
                throw refused;
            }
            Fate fate = Files.exists(work, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? Fate.LEFT : Fate.ABSENT;
            if (Files.isDirectory(work, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                try {
                    deleteTree(work, keepRoot);
                    fate = keepRoot ? Fate.EMPTIED : Fate.REMOVED;
                } catch (OtherFileSystem mounted) {
                    // Mounted during the deletion: what was deleted stays deleted (the mark stands).
                    throw new ConflictException(holds(p, mounted.dir));
                }
            }
            Files.deleteIfExists(home.hashCache(p.name()));
            deleteTree(home.installedDir(p.name()), false);
            Lineage.update(home, l -> {
                l.remove(p.name());
                return null;
            });
            // A folder left alone (a link, a file) or gone already lost nothing here.
            Status.Changes discarded = fate == Fate.REMOVED || fate == Fate.EMPTIED ? lost : NONE;
            return new Result(work, fate, java.util.List.copyOf(s.commits), discarded);
        }
    }

    /** What --force does to the working folder at {@code work}, for a refusal. */
    private static String whatForceDoes(Path work) {
        if (Files.isSymbolicLink(work)) {
            return "uninstall anyway (" + work + " is a symbolic link: it and the files it leads to stay where they"
                    + " are, changes included)";
        }
        if (!Files.isDirectory(work, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return "uninstall anyway (" + work + " is not a folder: it stays)";
        }
        try {
            if (MountTable.at(work.toRealPath()) != null) {
                return "discard them (it deletes every file in " + work + ", a mount point, which stays)";
            }
        } catch (IOException unreadable) {
            // said as for any folder
        }
        return "discard them (it deletes the working folder with every file in it)";
    }

    /**
     * Refuses ({@link ConflictException}, nothing deleted) when another file system is mounted
     * strictly below the working folder {@code work} (a bind mount of the same disk too, which
     * st_dev does not tell), or when the file system holding {@code work} (mounted on it or on a
     * folder above it) is not the one recorded at the install: a disk mounted over a parent
     * folder since, with a folder of the same name, holds someone else's files. Returns whether
     * {@code work} is a mount point that it was at the install (a disk given as --dest):
     * emptied, then kept.
     */
    private static boolean refuseMounts(InstalledPackage p, Path work) throws IOException {
        if (!Files.isDirectory(work, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return false; // nothing is deleted through a link or in a file
        }
        Path real = work.toRealPath();
        // Read after touching the folder: an expired automount is mounted again by the touch.
        List<MountTable.Mount> table = MountTable.read();
        List<Path> inside = MountTable.below(table, real);
        if (!inside.isEmpty()) {
            throw new ConflictException(holds(p, work.resolve(real.relativize(inside.get(0)))));
        }
        String then = p.state().workDirMount;
        MountTable.Mount on = MountTable.at(table, real);
        if (then != null && then.startsWith(RECORD)) {
            MountTable.Mount holding = MountTable.holding(table, real);
            if (holding != null && holding.record().equals(then)) {
                return holding.mountpoint().equals(real);
            }
            String[] was = recorded(then);
            String now = holding == null ? "no file system" : holding.what();
            String[] t = then.split(" ");
            String[] h = holding == null ? new String[0] : holding.record().split(" ");
            if (t.length >= 6 && h.length == 6 && t[1].equals(h[1]) && t[3].equals(h[3]) && t[4].equals(h[4])
                    && t[5].equals(h[5])) {
                // Where and what are the same, the device number or the folder not. A device of
                // major 0 (tmpfs, overlayfs, NFS, FUSE, btrfs) is numbered at each mount: the same
                // file system mounted again has another; the folder's inode number tells.
                boolean numbered = t[2].startsWith("0:");
                if (numbered && t.length > 6) {
                    Object ino = inode(real);
                    if (ino != null && ino.toString().equals(t[6])) {
                        return holding.mountpoint().equals(real);
                    }
                    throw new ConflictException("the working folder of " + p.name() + ", " + work + ", is on "
                            + now + " mounted at " + holding.mountpoint() + " as when it was installed, but it is"
                            + " another folder (inode " + ino + ", not " + t[6] + "): a file system mounted since"
                            + " with a folder of the same name, whose files are not the package's. Mount again the"
                            + " one it was installed on, then run `quiltfs uninstall " + p.name() + "` again; if"
                            + " the files at " + work + " are the package's after all, delete them yourself, then"
                            + " run it again to forget the package");
                }
                if (t[2].equals(h[2])) {
                    return holding.mountpoint().equals(real);
                }
                throw new ConflictException("the working folder of " + p.name() + ", " + work + ", is on "
                        + now + " mounted at " + holding.mountpoint() + " as when it was installed, but only its"
                        + " device number differs (" + h[2] + ", not " + t[2] + ")"
                        + (numbered ? ": it may be the same file system mounted again, but this install (by an"
                                + " older quiltfs) did not record enough to tell"
                                : ": another disk of the same name")
                        + ", so its files may not be the package's. If they are, delete them yourself, then run"
                        + " `quiltfs uninstall " + p.name() + "` again to forget the package");
            }
            if (on != null) {
                throw new ConflictException(work + " is now the mount point of another file system (" + now + ")"
                        + (was[0].equals(real.toString()) ? ", not of " + was[1] + " as it was" : ", which it was not")
                        + " when " + p.name() + " was installed: its files are not the package's; unmount it, then"
                        + " run `quiltfs uninstall " + p.name() + "` again to finish");
            }
            throw new ConflictException("the working folder of " + p.name() + ", " + work + ", is now on " + now
                    + (holding == null ? "" : " mounted at " + holding.mountpoint()) + ", not on " + was[1]
                    + " mounted at " + was[0] + " as when it was installed: its files are not the package's."
                    + " Unmount what was mounted since (or mount again what was unmounted), then run `quiltfs"
                    + " uninstall " + p.name() + "` again; if the files at " + work + " are the package's after"
                    + " all, delete them yourself, then run it again to forget the package");
        }
        // Records of older versions: "" (no mount point), "TYPE SOURCE", null (not recorded).
        if (on == null) {
            return false;
        }
        String what = "another file system (" + on.what() + ")";
        throw new ConflictException(then == null || !then.isEmpty()
                ? work + " is the mount point of " + what + ", and the install of " + p.name() + " (by an older"
                        + " quiltfs) did not record " + (then == null ? "whether it was one then"
                        : "which one it was (only its type and source, which every bind mount of a disk and every"
                        + " tmpfs share)") + ", so its files may not be the package's: check, unmount it, then run"
                        + " `quiltfs uninstall " + p.name() + "` again to finish (the files on that file system"
                        + " stay); if they are the package's, delete them yourself, then run it again"
                : work + " is now the mount point of " + what + ", which it was not when " + p.name() + " was"
                        + " installed: its files are not the package's; unmount it, then run `quiltfs uninstall "
                        + p.name() + "` again to finish");
    }

    /** How a record of {@link MountTable.Mount#record} starts (older ones never do). */
    private static final String RECORD = "at ";

    /** The inode number of {@code p} (st_ino), or null where the file system does not say. */
    private static Object inode(Path p) throws IOException {
        try {
            return Files.getAttribute(p, "unix:ino", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        } catch (UnsupportedOperationException | IllegalArgumentException notUnix) {
            return null;
        }
    }

    /** A record's mount point and what was mounted there, for a message. */
    private static String[] recorded(String record) {
        String[] f = record.split(" ");
        if (f.length < 6) {
            return new String[] {"?", record};
        }
        String root = MountTable.unescape(f[3]);
        return new String[] {MountTable.unescape(f[1]), MountTable.unescape(f[4]) + " " + MountTable.unescape(f[5])
                + (root.equals("/") ? "" : " " + root)};
    }

    /** The refusal for a mount point {@code dir} inside the working folder of {@code p}. */
    private static String holds(InstalledPackage p, Path dir) {
        return "the working folder of " + p.name() + " holds " + dir + ", the mount point of another file system,"
                + " whose files are not the package's: unmount it, then run `quiltfs uninstall " + p.name()
                + "` again to finish";
    }

    /**
     * The record of the mount holding the folder {@code work} now ({@link MountTable.Mount#record}),
     * then the folder's inode number, which uninstall compares (the inode where the device, of
     * major 0, is numbered at each mount); an install that cannot read the mount table fails,
     * saying so, rather than record nothing.
     */
    static String mountOf(Path work) throws IOException {
        Path real = work.toRealPath(); // first: touching it mounts an expired automount again
        Object ino = inode(real);
        List<MountTable.Mount> table;
        try {
            table = MountTable.read();
        } catch (IOException e) {
            throw new IOException("cannot read the mount table /proc/self/mountinfo (" + e.getMessage() + "):"
                    + " quiltfs records which file system holds a working folder, so that uninstall never deletes"
                    + " another one's files", e);
        }
        MountTable.Mount m = MountTable.holding(table, real);
        if (m == null) {
            throw new IOException("the mount table /proc/self/mountinfo names no file system holding " + work);
        }
        return m.record() + (ino == null ? "" : " " + ino);
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
     * Deletes {@code root} and everything below it ({@code keepRoot}: all but {@code root}, a
     * mount point checked by the caller), but never crosses into another file system mounted
     * below it (a quiltfs mount, a network share, a bind mount: someone's files, which the
     * package's folder only shows): {@link OtherFileSystem}. Before descending into each folder
     * the mount table is read again (only its lines on, below or above the folder parsed: a bind
     * mount of the same disk has the same st_dev, and the kernel's mount id, statx STATX_MNT_ID,
     * is out of reach of plain Java), and st_dev compared; a folder or file that cannot be
     * deleted and that the table, read again, names a mount point is refused the same way. What remains: a mount made in the
     * instant between a folder's check and the deletion of its entries is deleted through
     * (closing it needs openat/unlinkat on descriptors, not available to store).
     */
    static void deleteTree(Path root, boolean keepRoot) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Object rootDevice = device(root);
        Path real = root.toRealPath();
        String rootMount = recordAt(MountTable.around(real), real);
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
                if (!d.equals(root)) {
                    Checkpoints.reach("uninstall.entering");
                }
                if (rootDevice != null && !rootDevice.equals(device(d))) {
                    throw new OtherFileSystem(d);
                }
                Path dReal = real.resolve(root.relativize(d));
                // Only the lines on, below or above the folder deleted are parsed (read per folder).
                List<MountTable.Mount> table = MountTable.around(real);
                for (MountTable.Mount m : MountTable.visible(table)) {
                    Path mp = m.mountpoint();
                    if (mp.startsWith(dReal) && !mp.equals(real)) {
                        throw new OtherFileSystem(root.resolve(real.relativize(mp)));
                    }
                }
                // and on the root itself: none (or the same one, kept) as when the deletion began
                if (!java.util.Objects.equals(recordAt(table, real), rootMount)) {
                    throw new OtherFileSystem(root);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                delete(f, real.resolve(root.relativize(f)));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                if (!(keepRoot && d.equals(root))) {
                    delete(d, real.resolve(root.relativize(d)));
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** The record of the mount on top at exactly {@code real}, or null when it is no mount point. */
    private static String recordAt(List<MountTable.Mount> table, Path real) {
        MountTable.Mount m = MountTable.at(table, real);
        return m == null ? null : m.record();
    }

    /**
     * Deletes {@code p} (its real path {@code real}); one the kernel keeps as a mount point:
     * {@link OtherFileSystem}. Told by the mount table read again, not by the error's text
     * (strerror is in the user's language; and EBUSY, EXDEV are not the only errors there: a
     * read-only parent says EROFS first).
     */
    private static void delete(Path p, Path real) throws IOException {
        try {
            Files.delete(p);
        } catch (java.nio.file.FileSystemException e) {
            String why = e.getReason();
            if (why != null && (why.contains("Device or resource busy") || why.contains("Invalid cross-device link"))) {
                throw new OtherFileSystem(p);
            }
            boolean mountPoint;
            try {
                mountPoint = MountTable.at(MountTable.around(real), real) != null;
            } catch (IOException unreadable) {
                e.addSuppressed(unreadable);
                throw e;
            }
            if (mountPoint) {
                throw new OtherFileSystem(p);
            }
            throw e;
        }
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
