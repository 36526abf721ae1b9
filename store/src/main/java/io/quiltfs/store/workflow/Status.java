package io.quiltfs.store.workflow;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.RegistryException;
import io.quiltfs.store.state.PackageState;
import io.quiltfs.store.workflow.WorkingFiles.FileStat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code status}: what changed in the working files against the local head (Added, Modified,
 * Removed logical keys), and where the package stands against the registry's {@code latest}.
 * Files whose stat matches the {@link HashCache} are not re-hashed; the rest are hashed in
 * parallel and cached. Keys outside a partial install's paths that are absent are not removed.
 */
public final class Status {
    private Status() {
    }

    /** The package's state against the registry, as the Quilt clients name it. */
    public enum State {
        UP_TO_DATE("UpToDate"), AHEAD("Ahead"), BEHIND("Behind"), DIVERGED("Diverged"), LOCAL("Local");

        private final String label;

        State(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /**
     * The working files against a manifest: keys in walk order, and the hash and stat of every
     * added or modified file as seen now.
     */
    public record Changes(List<String> added, List<String> modified, List<String> removed,
                          Map<String, Checksum> hashes, Map<String, FileStat> stats) {
        public boolean isEmpty() {
            return added.isEmpty() && modified.isEmpty() && removed.isEmpty();
        }

        /** Every changed key. */
        public Set<String> keys() {
            Set<String> s = new HashSet<>(added);
            s.addAll(modified);
            s.addAll(removed);
            return s;
        }
    }

    /**
     * The whole status of a package. {@code latest} is null when the registry has none;
     * {@code installing}: an install has not finished (missing files are not counted as removed);
     * {@code paths}: the globs of a partial install (null: every key is in the working folder);
     * {@code conflicts}: the keys a pull of {@code latest} would refuse (empty when it would go
     * through or there is nothing to pull; null when the registry was not asked); {@code pulling}:
     * the revision a pull that did not finish was taking in (null: none), whose files already
     * placed are not among the changes; then {@code conflicts} are the keys finishing it would
     * refuse (null also when they cannot be told: its manifest is gone), and {@code putBack} the
     * removed keys finishing it would place again (empty when no pull is unfinished); {@code
     * pullUntold}: the unfinished pull's manifests are gone from the home and the registry, so the
     * files it wrote are among the changes (and {@code conflicts} is null); {@code damaged}: the
     * registry's {@code latest} pointer could not be read (null: it could, or was not asked), so
     * {@code state} and {@code latest} are null (not known) and, with no unfinished pull, so are
     * {@code conflicts}; the local changes are reported all the same.
     */
    public record Report(PackageName pkg, String registry, String workDir, State state, String base, String head,
                         String latest, List<String> unpushed, Changes changes, boolean installing,
                         List<String> paths, List<String> conflicts, String pulling, List<String> putBack,
                         boolean pullUntold, RegistryException.BadPointer damaged) {
    }

    /** The state from the lineage and the registry's current {@code latest}. */
    public static State state(PackageState s, String latest) {
        if (latest != null && latest.equals(s.head)) {
            return State.UP_TO_DATE;
        }
        boolean local = !s.commits.isEmpty();
        if (s.base == null) {
            return latest == null ? State.LOCAL : State.DIVERGED;
        }
        if (latest == null) {
            // The registry lost its `latest` (the package was deleted there, or this is not the
            // registry it came from): only this home holds the package now; a push of local
            // commits publishes them as its latest.
            return local ? State.AHEAD : State.LOCAL;
        }
        if (latest.equals(s.base)) {
            return local ? State.AHEAD : State.UP_TO_DATE;
        }
        return local ? State.DIVERGED : State.BEHIND;
    }

    /** The full report; {@code registry} null uses the latest seen by the last remote operation. */
    public static Report report(InstalledPackage p, Registry registry, HashType newType) throws IOException {
        PackageState s = p.state();
        String latest = s.latestSeen;
        RegistryException.BadPointer damaged = null;
        if (registry != null) {
            try {
                latest = registry.latest(p.name());
            } catch (RegistryException.BadPointer e) {
                // The local changes do not depend on it: they are still reported, the state not.
                latest = null;
                damaged = e;
            }
        }
        List<String> conflicts = null;
        if (registry != null && s.pulling != null) {
            // The interrupted pull is what a pull does first. Asked before the changes: it brings
            // the pull's manifests from the registry when this home lost them (null: gone there too).
            conflicts = Pull.unfinishedConflicts(p, registry);
        }
        Changes c = changes(p, newType);
        State state = damaged == null ? state(s, latest) : null;
        if (s.pulling != null && !Pull.canTell(p)) {
            conflicts = null; // the pull's files are among the changes: what finishing refuses cannot be told
        } else if (registry != null && s.pulling == null && damaged == null) {
            // Only a package with work of its own on both sides can conflict: asking costs the
            // base and latest manifests, read once and then kept in the home.
            boolean behindWithEdits = state == State.BEHIND && !c.isEmpty();
            conflicts = state == State.DIVERGED || behindWithEdits
                    ? List.copyOf(Pull.conflicts(p, registry, latest, c)) : List.of();
        }
        return new Report(p.name(), s.registry, s.workDir, state, s.base, s.head, latest,
                List.copyOf(s.commits), c, s.installing, s.paths == null ? null : List.copyOf(s.paths),
                conflicts == null ? null : List.copyOf(conflicts), s.pulling, List.copyOf(Pull.putBack(p, c)),
                s.pulling != null && !Pull.canTell(p), damaged);
    }

    /** Computes the checksums of working files (in parallel); the list matches {@code keys}. */
    public interface KeyHasher {
        List<Checksum> hash(List<String> keys, HashType type) throws IOException;
    }

    /** Hashes the files in place (each readable while it is read: {@link WorkingFiles#read}). */
    static KeyHasher plain(WorkingFiles files) {
        return (keys, type) -> {
            if (files instanceof WorkFolder) {
                List<Path> paths = new ArrayList<>(keys.size());
                for (String k : keys) {
                    paths.add(files.path(k));
                }
                return FileHasher.hashAll(paths, type);
            }
            List<java.util.concurrent.ForkJoinTask<Checksum>> tasks = new ArrayList<>(keys.size());
            for (String k : keys) {
                tasks.add(java.util.concurrent.ForkJoinTask.adapt(() -> files.read(k, f -> FileHasher.hash(f, type))));
            }
            return FileHasher.inPool(() -> {
                java.util.concurrent.ForkJoinTask.invokeAll(tasks);
                List<Checksum> out = new ArrayList<>(keys.size());
                for (var t : tasks) {
                    out.add(t.join());
                }
                return out;
            });
        };
    }

    /**
     * The working files against the head, updating the hash cache. While an install has not
     * finished, a missing file is not installed yet rather than removed; while a pull has not
     * finished, the files it already changed are its work, not changes.
     */
    public static Changes changes(InstalledPackage p, HashType newType) throws IOException {
        HashCache cache = p.hashCache();
        WorkingFiles files = p.presentFiles();
        PackageState s = p.state();
        String head = s.head;
        PathFilter filter = p.filter();
        if (!s.installing && s.pulling == null && cache.stillClean(head, filter, files)) {
            // Same files, same stats as when they last all matched the head: no manifest needed.
            return new Changes(List.of(), List.of(), List.of(), Map.of(), Map.of());
        }
        Map<String, FileStat> now = files.scan(cache.size());
        Changes c = changes(files, now, p.head(), filter, cache, newType, plain(files));
        if (s.installing) {
            c = new Changes(c.added(), c.modified(), List.of(), c.hashes(), c.stats());
        }
        if (s.pulling != null) {
            c = Pull.withoutPulled(p, files, c);
        } else if (!s.installing && c.isEmpty() && cache.covers(now)) {
            cache.markClean(head, filter);
        }
        cache.save();
        return c;
    }

    /**
     * Compares {@code files} with {@code head}: hashes (with the row's type, or {@code newType}
     * for new keys) with {@code hasher} only files whose stat is not in {@code cache}.
     */
    public static Changes changes(WorkingFiles files, Manifest head, PathFilter filter, HashCache cache,
                                  HashType newType, KeyHasher hasher) throws IOException {
        return changes(files, files.scan(), head, filter, cache, newType, hasher);
    }

    /** The hash the working files know (of any type: a moved row keeps its own), else the hash cache's. */
    private static Checksum known(WorkingFiles files, HashCache cache, String k, FileStat st, HashType type) {
        Checksum h = files.knownHash(k, st);
        return h != null ? h : cache.lookup(k, st, type);
    }

    static Changes changes(WorkingFiles files, Map<String, FileStat> now, Manifest head, PathFilter filter,
                           HashCache cache, HashType newType, KeyHasher hasher) throws IOException {
        // Rows and files are joined through a hash map, not by binary search or sorting: this is
        // the hot loop of a status with nothing changed.
        Map<String, FileStat> unmatched = new java.util.HashMap<>(now);
        Map<String, Checksum> hashes = new java.util.HashMap<>();
        Map<String, Entry> rows = new java.util.HashMap<>();
        Map<HashType, List<String>> toHash = new EnumMap<>(HashType.class);
        List<String> removed = new ArrayList<>();
        for (int i = 0; i < head.size(); i++) {
            String k = head.key(i);
            FileStat st = unmatched.remove(k);
            if (st == null) {
                if (filter.matches(k)) {
                    removed.add(k);
                }
                continue;
            }
            Entry row = head.entry(i);
            Checksum h = known(files, cache, k, st, row.hash().type());
            if (h == null) {
                rows.put(k, row);
                toHash.computeIfAbsent(row.hash().type(), t -> new ArrayList<>()).add(k);
            } else if (!h.equals(row.hash()) || row.size() != st.size()) {
                rows.put(k, row);
                hashes.put(k, h);
            }
        }
        for (Map.Entry<String, FileStat> f : unmatched.entrySet()) {
            Checksum h = known(files, cache, f.getKey(), f.getValue(), newType);
            if (h == null) {
                toHash.computeIfAbsent(newType, t -> new ArrayList<>()).add(f.getKey());
            } else {
                hashes.put(f.getKey(), h);
            }
        }
        // Every byte hashed below is read after this moment: a file whose change stamp is a tick
        // older cannot change again without the stamp moving (HashCache's racy-entry rule).
        long readSince = toHash.isEmpty() ? 0 : cache.now();
        for (Map.Entry<HashType, List<String>> t : toHash.entrySet()) {
            List<Checksum> sums = hasher.hash(t.getValue(), t.getKey());
            for (int i = 0; i < sums.size(); i++) {
                String k = t.getValue().get(i);
                FileStat before = now.get(k);
                // Cache only when the file did not change while it was hashed, nor can change
                // later without its stat moving.
                if (before.equals(files.stat(k))) {
                    cache.put(k, before, sums.get(i), readSince);
                }
                hashes.put(k, sums.get(i));
            }
        }
        List<String> added = new ArrayList<>();
        List<String> modified = new ArrayList<>();
        Map<String, Checksum> changedHashes = new TreeMap<>(io.quiltfs.store.manifest.LogicalKey.WALK_ORDER);
        Map<String, FileStat> changedStats = new TreeMap<>(io.quiltfs.store.manifest.LogicalKey.WALK_ORDER);
        for (Map.Entry<String, Checksum> h : hashes.entrySet()) {
            String k = h.getKey();
            Entry row = rows.get(k);
            if (row == null) {
                added.add(k);
            } else if (row.size() != now.get(k).size() || !h.getValue().equals(row.hash())) {
                modified.add(k);
            } else {
                continue;
            }
            changedHashes.put(k, h.getValue());
            changedStats.put(k, now.get(k));
        }
        added.sort(io.quiltfs.store.manifest.LogicalKey.WALK_ORDER);
        modified.sort(io.quiltfs.store.manifest.LogicalKey.WALK_ORDER);
        cache.retain(now.keySet());
        return new Changes(added, modified, removed, changedHashes, changedStats);
    }
}
