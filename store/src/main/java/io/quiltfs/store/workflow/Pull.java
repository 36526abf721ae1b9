package io.quiltfs.store.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.cache.Fetcher;
import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.LogicalKey;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.manifest.ManifestWriter;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.RegistryException;
import io.quiltfs.store.state.AtomicFile;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.HomeLock;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.state.PackageState;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * {@code pull}: takes in the registry's {@code latest}. The remote's changes are the keys that
 * differ between the base and latest; local changes are the committed ones (base to head) and
 * the uncommitted ones (head to the working files). A key changed on both sides to different
 * content is a conflict: nothing is changed and the keys are named. Otherwise the remote's
 * changes are written into the working files (local edits are left alone), and the head becomes
 * latest, or, with local commits, one new local commit: latest plus the local changes.
 *
 * <p>Everything that can refuse is checked before the first working file changes: conflicts,
 * folders standing where files go, and the new objects (fetched into the cache, or looked at in
 * a local registry). Files are placed before the lineage moves. A pull killed in between is
 * completed by pulling again: a working file that already holds the remote's content is not a
 * conflict.
 */
public final class Pull {
    private Pull() {
    }

    /**
     * Keys that cannot both be: a file one side added or changed where the other side now has a
     * folder holding files, or the other way round ({@code a} here, {@code a/b} there). Neither
     * side's content can be placed without removing the other's, and no manifest holds both.
     */
    static List<String> folderClashes(Manifest remote, Manifest head, Set<String> remoteChanged,
                                      Set<String> committed, Status.Changes uncommitted) {
        Set<String> theirs = new TreeSet<>();
        for (String k : remoteChanged) {
            if (remote.get(k) != null) {
                theirs.add(k);
            }
        }
        Set<String> ours = new TreeSet<>(uncommitted.added());
        ours.addAll(uncommitted.modified());
        for (String k : committed) {
            if (head.get(k) != null) {
                ours.add(k);
            }
        }
        Set<String> clashes = new TreeSet<>();
        clash(theirs, ours, clashes);
        clash(ours, theirs, clashes);
        return new ArrayList<>(clashes);
    }

    /** Adds each key of {@code keys} that lies inside a file of {@code files}, and that file. */
    private static void clash(Set<String> keys, Set<String> files, Set<String> out) {
        for (String k : keys) {
            for (int slash = k.indexOf('/'); slash > 0; slash = k.indexOf('/', slash + 1)) {
                String folder = k.substring(0, slash);
                if (files.contains(folder)) {
                    out.add(folder);
                    out.add(k);
                }
            }
        }
    }

    /**
     * The keys a pull of {@code latest} would refuse to take in (changed both here, committed or
     * not, and there to different content), for {@code status} to name before the user pulls; empty
     * when the pull would go through. Reads the base and latest manifests (kept in the home).
     */
    public static List<String> conflicts(InstalledPackage p, Registry registry, String latest,
                                         Status.Changes uncommitted) throws IOException {
        PackageState s = p.state();
        if (latest == null || latest.equals(s.head) || latest.equals(s.base)) {
            return List.of();
        }
        Manifest base = s.base == null ? Manifest.builder().build() : p.manifest(s.base, registry);
        Manifest remote = p.manifest(latest, registry);
        Manifest head = p.head();
        Set<String> remoteChanged = diff(base, remote);
        Set<String> committed = diff(base, head);
        List<String> conflicts = conflicts(remote, head, remoteChanged, committed, uncommitted);
        WorkingFiles files = p.presentFiles();
        for (String k : blocked(files, remote, remoteChanged, p.filter(), uncommitted.keys(), committed)) {
            if (!conflicts.contains(k)) {
                conflicts.add(k);
            }
        }
        for (String k : openForWriting(files, remoteChanged, p.filter(), uncommitted.keys(), committed)) {
            if (!conflicts.contains(k)) {
                conflicts.add(k);
            }
        }
        return conflicts;
    }

    private static List<String> conflicts(Manifest remote, Manifest head, Set<String> remoteChanged,
                                          Set<String> committed, Status.Changes uncommitted) {
        Set<String> local = uncommitted.keys();
        List<String> conflicts = new ArrayList<>();
        for (String k : remoteChanged) {
            Entry r = remote.get(k);
            if (committed.contains(k) && same(head.get(k), r)) {
                continue; // committed here too: a working edit is on top of the remote's content
            }
            if (committed.contains(k)) {
                conflicts.add(k);
            } else if (local.contains(k) && !sameWorking(uncommitted, k, r)) {
                conflicts.add(k);
            }
        }
        for (String k : folderClashes(remote, head, remoteChanged, committed, uncommitted)) {
            if (!conflicts.contains(k)) {
                conflicts.add(k);
            }
        }
        return conflicts;
    }

    /**
     * The keys the pull would write where a folder that holds no working file stands (an empty
     * folder made here): found before anything is written, so that the pull does not stop
     * half-way with some of the remote's files placed. A folder that the pull's own removals
     * empty is no obstacle.
     */
    private static List<String> blocked(WorkingFiles files, Manifest remote, Set<String> remoteChanged,
                                        PathFilter filter, Set<String> local, Set<String> committed) throws IOException {
        Set<String> leaving = new java.util.HashSet<>();
        List<String> arriving = new ArrayList<>();
        for (String k : remoteChanged) {
            if (filter.matches(k) && !local.contains(k) && !committed.contains(k)) {
                (remote.get(k) == null ? leaving : arriving).add(k);
            }
        }
        List<String> out = new ArrayList<>();
        for (String k : arriving) {
            if (files.blocked(k, leaving)) {
                out.add(k);
            }
        }
        return out;
    }

    /**
     * The keys the pull would write or remove that are open for writing through a mount: what
     * the writer writes after the pull would land on the remote's content, or on a removed file.
     * They count as local changes: the pull refuses them and changes nothing.
     */
    private static List<String> openForWriting(WorkingFiles files, Set<String> remoteChanged, PathFilter filter,
                                               Set<String> local, Set<String> committed) {
        List<String> out = new ArrayList<>();
        for (String k : remoteChanged) {
            if (filter.matches(k) && !local.contains(k) && !committed.contains(k) && files.openForWriting(k)) {
                out.add(k);
            }
        }
        return out;
    }

    /** Outcome: the new head, the registry's latest, what changed in the working files. */
    public record Result(String head, String latest, boolean pulled, boolean merged, List<String> updated,
                         List<String> deleted, String message) {
    }

    public static Result pull(InstalledPackage pkg, Registry registry, Function<PhysicalKey, ObjectSource> sources,
                              Progress progress) throws IOException {
        Home home = pkg.home();
        try (HomeLock lock = HomeLock.acquire(home.packageLock(pkg.name()))) {
            InstalledPackage p = InstalledPackage.require(home, pkg.name());
            PackageState s = p.state();
            String latest = registry.latest(p.name());
            if (latest == null) {
                setSeen(p, null); // what `status --offline` reports from now on
                return new Result(s.head, null, false, false, List.of(), List.of(), "nothing to pull: "
                        + p.name() + " has no latest in " + registry.uri());
            }
            if (latest.equals(s.head) && !s.commits.isEmpty()) {
                // A push of these commits moved `latest` and was stopped before it said so.
                Push.settlePublished(p, registry, s);
                return new Result(s.head, latest, false, false, List.of(), List.of(), p.name()
                        + " already has " + registry.uri() + "'s latest " + latest + " (its commits were pushed)");
            }
            if (latest.equals(s.head) || latest.equals(s.base)) {
                setSeen(p, latest);
                return new Result(s.head, latest, false, false, List.of(), List.of(), p.name()
                        + " already has " + registry.uri() + "'s latest " + latest);
            }
            Manifest base = s.base == null ? Manifest.builder().build() : p.manifest(s.base, registry);
            Manifest remote;
            try {
                remote = p.manifest(latest, registry);
            } catch (RegistryException.NotFound e) {
                throw new RegistryException.NotFound("cannot pull " + p.name() + ": its latest in " + registry.uri()
                        + " names the revision " + latest + ", whose manifest is missing there (the registry is"
                        + " damaged, or someone moved latest by hand); nothing was changed. Ask whoever looks"
                        + " after the registry to restore it or to point latest at a revision that exists");
            }
            Manifest head = p.head();
            Set<String> remoteChanged = diff(base, remote);
            Set<String> committed = diff(base, head);
            WorkingFiles files = p.presentFiles();
            HashCache hashCache = p.hashCache();
            PathFilter filter = p.filter();
            Status.Changes uncommitted = Status.changes(files, head, filter, hashCache,
                    HashType.SHA2_256_CHUNKED, Status.plain(files));
            Set<String> local = uncommitted.keys();
            List<String> conflicts = conflicts(remote, head, remoteChanged, committed, uncommitted);
            List<String> blockedKeys = blocked(files, remote, remoteChanged, filter, local, committed);
            for (String k : blockedKeys) {
                if (!conflicts.contains(k)) {
                    conflicts.add(k);
                }
            }
            List<String> writing = openForWriting(files, remoteChanged, filter, local, committed);
            for (String k : writing) {
                if (!conflicts.contains(k)) {
                    conflicts.add(k);
                }
            }
            if (!conflicts.isEmpty()) {
                setSeen(p, latest);
                boolean deletedHere = conflicts.stream().anyMatch(k -> uncommitted.removed().contains(k));
                throw new ConflictException(conflictMessage(p, registry, latest, conflicts, deletedHere, blockedKeys,
                        writing), conflicts);
            }
            String newHead = latest;
            boolean merged = !committed.isEmpty();
            if (merged) {
                Manifest m = merge(remote, head, committed);
                newHead = m.topHash();
                AtomicFile.write(home.installedManifest(p.name(), newHead), ManifestWriter.toBytes(m));
            }
            List<Entry> toPlace = new ArrayList<>();
            List<String> deleted = new ArrayList<>();
            long bytes = 0;
            for (String k : remoteChanged) {
                if (!filter.matches(k) || local.contains(k) || committed.contains(k)) {
                    continue;
                }
                Entry r = remote.get(k);
                if (r == null) {
                    deleted.add(k);
                } else {
                    toPlace.add(r);
                    bytes += r.size();
                }
            }
            Install.Placer placer = new Install.Placer(new Fetcher(new ObjectCache(home), sources), files,
                    hashCache, progress);
            try {
                placer.prefetchAll(toPlace);
            } catch (RegistryException.NotFound e) {
                throw new RegistryException.NotFound("cannot pull " + p.name() + " (latest " + latest + " of "
                        + registry.uri() + "): " + e.getMessage() + "; nothing was changed");
            }
            progress.begin("pulling", toPlace.size(), bytes);
            try {
                // Deletions first: a key the remote turned from a file into a folder (or back)
                // needs the old one out of the way. Each deleted file is unchanged here, and its
                // content stays in the base revision.
                for (String k : deleted) {
                    files.delete(k);
                    hashCache.remove(k);
                }
                placer.placeAll(toPlace);
            } finally {
                progress.end();
                hashCache.save();
            }
            Checkpoints.reach("pull.after-files");
            String top = newHead;
            Lineage.update(home, l -> {
                PackageState n = l.get(p.name());
                if (n == null) {
                    throw new NotInstalledException(p.name());
                }
                n.base = latest;
                n.latestSeen = latest;
                n.head = top;
                n.commits.clear();
                if (merged) {
                    n.commits.add(top);
                }
                l.put(p.name(), n);
                return null;
            });
            List<String> updated = new ArrayList<>();
            toPlace.forEach(e -> updated.add(e.logicalKey()));
            return new Result(top, latest, true, merged, updated, deleted, merged
                    ? "merged " + registry.uri() + "'s latest " + latest + " with your commits into " + top
                            + " (push it with `quiltfs push " + p.name() + "`)"
                    : p.name() + " is now at " + latest);
        }
    }

    /** The keys whose rows differ (added, removed, other content or metadata), in walk order. */
    static Set<String> diff(Manifest a, Manifest b) {
        Set<String> out = new TreeSet<>(LogicalKey.WALK_ORDER);
        for (Entry e : a.entries()) {
            if (!same(e, b.get(e.logicalKey()))) {
                out.add(e.logicalKey());
            }
        }
        for (Entry e : b.entries()) {
            if (a.get(e.logicalKey()) == null) {
                out.add(e.logicalKey());
            }
        }
        return out;
    }

    static boolean same(Entry a, Entry b) {
        if (a == null || b == null) {
            return a == b;
        }
        return a.sameContent(b) && Objects.equals(a.meta(), b.meta());
    }

    /** Whether the uncommitted working file of {@code k} already is what the remote has. */
    private static boolean sameWorking(Status.Changes c, String k, Entry remote) {
        if (c.removed().contains(k)) {
            return remote == null;
        }
        Checksum h = c.hashes().get(k);
        return remote != null && h != null && h.equals(remote.hash()) && c.stats().get(k).size() == remote.size();
    }

    /** Latest's rows with the local commits' changes on top; the head's message and metadata. */
    private static Manifest merge(Manifest remote, Manifest head, Set<String> committed) {
        Manifest.Builder b = remote.toBuilder().clearEntries().message(head.message());
        // The head's user_meta node as it is (a JSON null stays null; absent stays absent).
        JsonNode userMeta = head.header().get("user_meta");
        if (userMeta == null) {
            b.userMeta(null);
        } else {
            b.headerField("user_meta", userMeta);
        }
        for (Entry e : remote.entries()) {
            if (!committed.contains(e.logicalKey())) {
                b.add(e);
            }
        }
        for (String k : committed) {
            Entry h = head.get(k);
            if (h != null) {
                b.add(h);
            }
        }
        return b.build();
    }

    private static String conflictMessage(InstalledPackage p, Registry registry, String latest, List<String> keys,
                                          boolean deletedHere, List<String> folders, List<String> writing) {
        StringBuilder sb = new StringBuilder();
        sb.append("cannot pull ").append(p.name()).append(": ").append(keys.size())
                .append(keys.size() == 1 ? " key was" : " keys were")
                .append(" changed both here and in ").append(registry.uri()).append(" (latest ").append(latest)
                .append("): ");
        for (int i = 0; i < Math.min(10, keys.size()); i++) {
            sb.append(i == 0 ? "" : ", ").append('\'').append(LogicalKey.printable(keys.get(i))).append('\'');
        }
        if (keys.size() > 10) {
            sb.append(" and ").append(keys.size() - 10).append(" more");
        }
        if (!folders.isEmpty()) {
            sb.append(" (a folder with no files in it stands where the registry now has the file '")
                    .append(LogicalKey.printable(folders.get(0))).append("'").append(folders.size() > 1 ? ", and more" : "")
                    .append(")");
        }
        if (!writing.isEmpty()) {
            sb.append(" ('").append(LogicalKey.printable(writing.get(0))).append("'")
                    .append(writing.size() > 1 ? " and " + (writing.size() - 1) + " more" : "")
                    .append(writing.size() > 1 ? " are" : " is")
                    .append(" open for writing through the mount: close ")
                    .append(writing.size() > 1 ? "them" : "it").append(" first, or commit what was written)");
        }
        sb.append("; nothing was changed. Move your version of ").append(keys.size() == 1 ? "it" : "them")
                .append(" aside (or undo the change")
                .append(deletedHere ? "; `quiltfs install " + p.name() + " --path KEY` puts back a file deleted here" : "")
                .append(") and pull again, or commit and run `quiltfs push ")
                .append(p.name())
                .append(" --force` to make your revision latest anyway");
        return sb.toString();
    }

    private static void setSeen(InstalledPackage p, String latest) throws IOException {
        Lineage.update(p.home(), l -> {
            PackageState n = l.get(p.name());
            if (n != null) {
                n.latestSeen = latest;
                l.put(p.name(), n);
            }
            return null;
        });
    }
}
