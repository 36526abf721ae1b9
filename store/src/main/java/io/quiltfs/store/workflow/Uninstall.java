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

    /** Outcome: the working folder that was removed. */
    public record Result(Path workDir) {
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
                            + (s.commits.size() == 1 ? "" : "s") + " not pushed (" + s.head + "); push them with"
                            + " `quiltfs push " + p.name() + "` or use --force to discard them");
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
                            + c.added().size() + " added, " + c.modified().size() + " modified, " + c.removed().size()
                            + " removed); commit and push them, or use --force to discard them");
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
            if (Files.isDirectory(work, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                deleteTree(work); // whatever else is at that path now is not the package's
            }
            Files.deleteIfExists(home.hashCache(p.name()));
            deleteTree(home.installedDir(p.name()));
            Lineage.update(home, l -> {
                l.remove(p.name());
                return null;
            });
            return new Result(work);
        }
    }

    /** What every other verb says about a package whose uninstall was interrupted. */
    static ConflictException unfinished(io.quiltfs.store.registry.PackageName pkg) {
        return new ConflictException("the uninstall of " + pkg + " did not finish (its working folder may be"
                + " partly deleted): run `quiltfs uninstall " + pkg + "` to finish it");
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
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
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
