package io.quiltfs.store.workflow;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.manifest.ManifestWriter;
import io.quiltfs.store.policy.Workflows;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.state.AtomicFile;
import io.quiltfs.store.state.HomeLock;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.state.PackageState;
import io.quiltfs.store.workflow.WorkingFiles.FileStat;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinTask;

/**
 * {@code commit}: records the working files as a new local revision. Changed files are copied
 * into the object cache and hashed from that copy (so a file written meanwhile is detected, not
 * recorded with a wrong hash); new rows point at the cached objects ({@code file://} keys
 * inside the home's objects folder) until {@link Push} uploads them. Order: objects, then the
 * manifest under {@code installed/}, then the lineage; a kill at any point leaves the old head
 * in force and a rerun produces the same revision (the top hash depends only on content).
 */
public final class Commit {
    private Commit() {
    }

    /** Outcome: the new head's top hash, or the unchanged head when there was nothing to commit. */
    public record Result(String topHash, boolean committed, Status.Changes changes, Manifest manifest) {
    }

    /**
     * Commits the working files of {@code pkg}. {@code userMeta} null keeps the head's package
     * metadata; {@code type} is the checksum type of new and changed rows.
     */
    public static Result commit(InstalledPackage pkg, String message, JsonNode userMeta, HashType type,
                                Progress progress) throws IOException {
        return commit(pkg, message, userMeta, type, null, progress);
    }

    /**
     * The registry's workflow check of the revision (quilt3's workflows), in quilt3's order: what
     * is known before hashing (the message, the name, {@code userMeta}: the new header's
     * {@code user_meta}, Java null when it has none) when called, the entries by the
     * {@link io.quiltfs.store.policy.Workflows.Check} returned. {@code headStamp} is the head's
     * {@code workflow} value (null: none), for a check that cannot ask the registry. Throws when
     * the registry's workflow config refuses the revision.
     */
    public interface WorkflowStamp {
        io.quiltfs.store.policy.Workflows.Check begin(JsonNode userMeta, JsonNode headStamp) throws IOException;
    }

    /**
     * {@link #commit} with the header stamped by {@code workflow} (checked against the package's
     * registry before the manifest or the lineage is written; null keeps the head's as it is). A
     * head whose stamp is no longer what the registry's config gives is committed again even
     * without changes, so that push can publish it. A refused commit leaves only objects in the
     * cache (content-addressed, evicted as any other).
     */
    public static Result commit(InstalledPackage pkg, String message, JsonNode userMeta, HashType type,
                                WorkflowStamp workflow, Progress progress) throws IOException {
        try (HomeLock lock = HomeLock.acquire(pkg.home().packageLock(pkg.name()))) {
            InstalledPackage p = InstalledPackage.require(pkg.home(), pkg.name());
            if (p.state().installing) {
                throw Install.unfinished(p, "commit");
            }
            if (p.state().pulling != null) {
                // The working files are partly the pulled revision's: a commit would record a mix.
                throw Pull.unfinished(p.name(), p.state().pulling, "commit");
            }
            Manifest head = p.head();
            // Null keeps the header's user_meta as it is: absent stays absent and a JSON null
            // stays null (quilt3 writes "user_meta": null for a package without metadata, and
            // dropping it would change the top hash of every later revision).
            boolean metaChanges = userMeta != null && !userMeta.equals(head.header().get("user_meta"));
            JsonNode headStamp = head.header().get("workflow");
            // quilt3 checks the message, name and metadata before it hashes anything
            io.quiltfs.store.policy.Workflows.Check check = workflow == null ? null
                    : workflow.begin(userMeta != null ? userMeta : head.header().get("user_meta"), headStamp);
            HashCache hashCache = p.hashCache();
            WorkingFiles files = p.presentFiles();
            ObjectCache cache = new ObjectCache(p.home());
            cache.sweepAbandoned(); // what a commit killed half-way left
            Storing storing = new Storing(files, cache, progress);
            Map<String, FileStat> now = files.scan();
            List<Workflows.Row> checkedRows = null;
            if (check != null && check.checksEntries()) {
                // The entries schema sees keys, sizes and row metadata, all known before hashing:
                // refuse now rather than after hashing every changed file. Rows that look like the
                // head's are left to the check after hashing (nothing may have changed, and a
                // commit with nothing to commit does not validate the head's rows again).
                List<Workflows.Row> before = prospectiveRows(head, now, p.filter(), files);
                if (!before.equals(Workflows.rows(head))) {
                    check.entries(before);
                    checkedRows = before;
                }
            }
            Status.Changes ch = Status.changes(files, now, head, p.filter(), hashCache, type, storing);
            if (ch.isEmpty() && !metaChanges
                    && (check == null || java.util.Objects.equals(check.stamp(), headStamp))) {
                // (head has the same rows and metadata as the revision would, and the same stamp:
                // its entries were checked when it was made; push checks them again)
                hashCache.save();
                return new Result(p.state().head, false, ch, head);
            }
            Map<String, Entry> newRows = rows(files, cache, ch, storing, type);
            Map<String, Checksum> newHashes = new java.util.HashMap<>();
            newRows.forEach((k, e) -> newHashes.put(k, e.hash()));
            Checkpoints.reach("commit.after-objects");
            Manifest.Builder b = head.toBuilder().clearEntries().message(message);
            if (userMeta != null) {
                b.userMeta(userMeta);
            }
            Set<String> removed = new HashSet<>(ch.removed());
            for (Entry e : head.entries()) {
                Entry n = newRows.remove(e.logicalKey());
                if (n != null) {
                    // Keep the row's metadata; only its content changed.
                    b.add(new Entry(e.logicalKey(), n.physicalKey(), n.size(), n.hash(), e.meta(), e.extras()));
                } else if (!removed.contains(e.logicalKey())) {
                    b.add(e);
                }
            }
            newRows.values().forEach(b::add);
            if (workflow != null) {
                b.withoutHeaderField("workflow"); // the stamp is made anew, or there is none
            }
            Manifest m = b.build();
            // (rows as checked before hashing need no second pass: the same rows, the same answer)
            JsonNode stamp = check == null ? null
                    : checkedRows != null && checkedRows.equals(Workflows.rows(m)) ? check.stamp() : check.entries(m);
            if (stamp != null) {
                m = m.toBuilder().headerField("workflow", stamp).build();
            }
            String top = m.topHash();
            AtomicFile.write(p.home().installedManifest(p.name(), top), ManifestWriter.toBytes(m));
            Checkpoints.reach("commit.after-manifest");
            Lineage.update(p.home(), l -> {
                PackageState s = l.get(p.name());
                if (s == null) {
                    throw new NotInstalledException(p.name());
                }
                // Under the lineage lock, which whoever trims the cache holds to delete: an
                // object this commit relies on is either still there now, and kept from now on
                // (LocalCommits), or was trimmed just before and is stored again here.
                restoreTrimmed(files, cache, newHashes, storing);
                s.head = top;
                if (!s.commits.contains(top)) {
                    s.commits.add(top);
                }
                l.put(p.name(), s);
                return null;
            });
            hashCache.save();
            return new Result(top, true, ch, m);
        }
    }

    /**
     * The rows the workflow's entries schema will see if the working files {@code now} are
     * committed, in walk order: a head row whose file is there gets the file's size, one whose
     * file is gone is dropped where the filter covers it (as {@link Status#changes} removes it),
     * a new file gets the metadata the commit will give it ({@link #newRowMeta}: a file renamed
     * in a mount keeps its row's). Sizes are the scan's: the check after hashing has the last word.
     */
    static List<Workflows.Row> prospectiveRows(Manifest head, Map<String, FileStat> now,
                                               PathFilter filter, WorkingFiles files) {
        java.util.TreeMap<String, Workflows.Row> rows =
                new java.util.TreeMap<>(io.quiltfs.store.manifest.LogicalKey.WALK_ORDER);
        for (Entry e : head.entries()) {
            FileStat st = now.get(e.logicalKey());
            if (st != null) {
                rows.put(e.logicalKey(), Workflows.Row.of(e.logicalKey(), st.size(), e.meta()));
            } else if (!filter.matches(e.logicalKey())) {
                rows.put(e.logicalKey(), Workflows.Row.of(e.logicalKey(), e.size(), e.meta()));
            }
        }
        for (Map.Entry<String, FileStat> f : now.entrySet()) {
            if (!rows.containsKey(f.getKey())) {
                rows.put(f.getKey(), Workflows.Row.of(f.getKey(), f.getValue().size(), newRowMeta(files, f.getKey())));
            }
        }
        return new ArrayList<>(rows.values());
    }

    /**
     * The row {@code meta} of {@code key} when it is not a head row (null: none): what it carries
     * from elsewhere. The one source for the new row and for the entries check before hashing.
     */
    private static JsonNode newRowMeta(WorkingFiles files, String key) {
        return files.carriedMeta(key);
    }

    /**
     * Hashes by copying into the object cache (the hash is computed from the copy), in
     * parallel, reporting progress; remembers what it stored.
     */
    private static final class Storing implements Status.KeyHasher {
        private final WorkingFiles files;
        private final ObjectCache cache;
        private final Progress progress;
        final Set<Checksum> stored = ConcurrentHashMap.newKeySet();

        Storing(WorkingFiles files, ObjectCache cache, Progress progress) {
            this.files = files;
            this.cache = cache;
            this.progress = progress;
        }

        @Override
        public List<Checksum> hash(List<String> keys, HashType type) throws IOException {
            long bytes = 0;
            for (String k : keys) {
                FileStat st = files.stat(k);
                bytes += st == null ? 0 : st.size();
            }
            progress.begin("committing", keys.size(), bytes);
            List<ForkJoinTask<Checksum>> tasks = new ArrayList<>();
            for (String k : keys) {
                tasks.add(ForkJoinTask.adapt(() -> {
                    Checksum sum = add(k, type);
                    progress.advance(1, Files.size(cache.path(sum)));
                    return sum;
                }));
            }
            List<Checksum> sums = FileHasher.inPool(() -> {
                ForkJoinTask.invokeAll(tasks);
                List<Checksum> out = new ArrayList<>();
                for (var t : tasks) {
                    out.add(t.join());
                }
                return out;
            });
            progress.end();
            return sums;
        }

        Checksum add(String k, HashType type) throws IOException {
            try {
                Checksum sum = CopyHasher.store(cache, files, k, type);
                stored.add(sum);
                return sum;
            } catch (ObjectCache.ConcurrentModificationException e) {
                throw new IOException("'" + k + "' in " + files.describe() + " changed while it was being"
                        + " hashed; nothing was committed (commit again once it is written)", e);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new IOException("'" + k + "' in " + files.describe() + " disappeared while it was being"
                        + " committed; nothing was committed (commit again)", e);
            }
        }
    }

    /** Stores again the objects of new rows that left the cache since they were looked up. */
    private static void restoreTrimmed(WorkingFiles files, ObjectCache cache, Map<String, Checksum> hashes,
                                       Storing storing) throws IOException {
        for (Map.Entry<String, Checksum> e : hashes.entrySet()) {
            if (!Files.exists(cache.path(e.getValue())) && !storing.add(e.getKey(), e.getValue().type())
                    .equals(e.getValue())) {
                throw new IOException("'" + e.getKey() + "' in " + files.describe() + " changed while it was being"
                        + " committed; nothing was committed (commit again once it is written)");
            }
        }
    }

    /**
     * The new rows of the added and modified keys; content hashed earlier (found in the hash
     * cache) that is not in the object cache yet is stored now, and must still match. A modified
     * row was compared with its own checksum type; its new checksum is of {@code type}, as for
     * an added row (so a package made with a legacy type moves to the current one as it changes).
     */
    private static Map<String, Entry> rows(WorkingFiles files, ObjectCache cache, Status.Changes ch,
                                           Storing storing, HashType type) throws IOException {
        Map<String, Entry> rows = new java.util.HashMap<>();
        Set<String> modified = new HashSet<>(ch.modified());
        for (String k : ch.hashes().keySet()) {
            Checksum sum = ch.hashes().get(k);
            if (sum.type() != type && modified.contains(k)) {
                sum = storing.add(k, type);
                if (!ch.stats().get(k).equals(files.stat(k))) {
                    throw new IOException("'" + k + "' in " + files.describe() + " changed while it was being"
                            + " committed; nothing was committed (commit again once it is written)");
                }
            } else if (!storing.stored.contains(sum) && cache.lookup(sum) == null) {
                Checksum now = storing.add(k, sum.type());
                if (!now.equals(sum)) {
                    throw new IOException("'" + k + "' in " + files.describe() + " changed while it was being"
                            + " committed; nothing was committed (commit again once it is written)");
                }
            }
            rows.put(k, new Entry(k, PhysicalKey.ofFile(cache.path(sum)).toString(),
                    Files.size(cache.path(sum)), sum, newRowMeta(files, k), null));
        }
        return rows;
    }
}
