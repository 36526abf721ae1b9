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
import java.util.Map;
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
 * a local registry). A working file is changed only while it is still what that check saw (its
 * stat, or no file): one edited, created or removed since is kept, and the pull stops there naming
 * it ({@link Incomplete#keptAnEdit}), to be refused as a conflict when finishing. Then the lineage is marked ({@link PackageState#pulling}: the revision being
 * taken in, and the head it makes), the files are removed and placed, and the lineage moves to
 * the new head, clearing the mark, in one write. A pull killed or failed in between (a full disk,
 * a file that cannot be written) leaves the mark: status does not count the files that already
 * hold that revision's content as edits, commit, push and install refuse, and pull run again
 * finishes that revision (a working file already holding its content is not a conflict; one gone
 * is placed, and named when it was there at the stop: a head file, or an added file the
 * lineage records as placed, see {@link PackageState#pullPlaced}) even if latest moved on
 * meanwhile, and then says so. A pull that cannot finish (its
 * revision gone from the registry) is given up with {@link #abandon}: the head's content goes back.
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
        WorkingFiles files = p.presentFiles();
        List<String> conflicts = conflicts(remote, head, remoteChanged, committed, uncommitted, files);
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
                                          Set<String> committed, Status.Changes uncommitted, WorkingFiles files)
            throws IOException {
        Set<String> local = uncommitted.keys();
        List<String> conflicts = new ArrayList<>();
        for (String k : remoteChanged) {
            Entry r = remote.get(k);
            if (committed.contains(k) && same(head.get(k), r)) {
                continue; // committed here too: a working edit is on top of the remote's content
            }
            if (committed.contains(k)) {
                conflicts.add(k);
            } else if (local.contains(k) && !holds(files, uncommitted, k, r)) {
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

    /**
     * Outcome: the new head, the registry's latest, what changed in the working files;
     * {@code placedOfBatch}: when finishing, the additions of the range the stopped pull was
     * placing that were missing and are placed now (not reached then, or removed since);
     * {@code putBack}: every file put back that was removed since the pull stopped (the message
     * names the first few).
     */
    public record Result(String head, String latest, boolean pulled, boolean merged, List<String> updated,
                         List<String> deleted, List<String> placedOfBatch, List<String> putBack, String message) {
    }

    /** At most this many of {@link Result#placedOfBatch} are named in the message. */
    static final int NAMED_OF_BATCH = 5;

    /**
     * Takes in the registry's latest; when an earlier pull stopped half-way (its marker is in the
     * lineage), finishes that one instead, to the revision it was taking in, and says whether
     * latest moved on since (a further pull takes that in).
     */
    public static Result pull(InstalledPackage pkg, Registry registry, Function<PhysicalKey, ObjectSource> sources,
                              Progress progress) throws IOException {
        Home home = pkg.home();
        try (HomeLock lock = HomeLock.acquire(home.packageLock(pkg.name()))) {
            InstalledPackage p = InstalledPackage.require(home, pkg.name());
            PackageState s = p.state();
            if (s.installing) {
                // Files the install has not placed yet would count as removed here.
                throw Install.unfinished(p, "pull");
            }
            String latest;
            RegistryException.BadPointer damaged = null;
            try {
                latest = registry.latest(p.name());
            } catch (RegistryException.BadPointer e) {
                if (s.pulling == null) {
                    throw e;
                }
                latest = null; // finishing takes in the marked revision: a damaged latest does not stop it
                damaged = e;
            }
            if (s.pulling != null) {
                return take(p, registry, sources, progress, s.pulling, latest, damaged, true);
            }
            if (latest == null) {
                setSeen(p, null); // what `status --offline` reports from now on
                return new Result(s.head, null, false, false, List.of(), List.of(), List.of(), List.of(), "nothing to pull: "
                        + p.name() + " has no latest in " + registry.uri());
            }
            if (latest.equals(s.head) && !s.commits.isEmpty()) {
                // A push of these commits moved `latest` and was stopped before it said so.
                Push.settlePublished(p, registry, s);
                return new Result(s.head, latest, false, false, List.of(), List.of(), List.of(), List.of(), p.name()
                        + " already has " + registry.uri() + "'s latest " + latest + " (its commits were pushed)");
            }
            if (latest.equals(s.head) || latest.equals(s.base)) {
                setSeen(p, latest);
                return new Result(s.head, latest, false, false, List.of(), List.of(), List.of(), List.of(), p.name()
                        + " already has " + registry.uri() + "'s latest " + latest);
            }
            return take(p, registry, sources, progress, latest, latest, null, false);
        }
    }

    /**
     * Takes in {@code target} (under the package lock): checks, fetches, marks the lineage, changes
     * the working files, moves the lineage. {@code finishing}: the marker of an interrupted pull of
     * {@code target} is there, and some of its files may be in place already; {@code latest} is
     * the registry's latest now (null: none), recorded as seen; {@code damaged}: latest could not be
     * read (finishing only), which is no news of it: the last latest seen is then the one the
     * stopped pull began with, its {@code target}.
     */
    private static Result take(InstalledPackage p, Registry registry, Function<PhysicalKey, ObjectSource> sources,
                               Progress progress, String target, String latest, RegistryException.BadPointer damaged,
                               boolean finishing) throws IOException {
        Home home = p.home();
        PackageState s = p.state();
        Plan plan = plan(p, registry, target, finishing);
        Manifest remote = plan.remote;
        Manifest head = plan.head;
        Set<String> remoteChanged = plan.remoteChanged;
        Set<String> committed = plan.committed;
        WorkingFiles files = plan.files;
        HashCache hashCache = plan.hashCache;
        PathFilter filter = plan.filter;
        Status.Changes uncommitted = plan.uncommitted;
        Set<String> local = uncommitted.keys();
        List<String> conflicts = plan.conflicts;
        List<String> blockedKeys = plan.blocked;
        List<String> writing = plan.writing;
        if (!conflicts.isEmpty()) {
            hashCache.save();
            if (finishing) {
                throw new ConflictException(unfinishedConflictMessage(p, target, conflicts, writing), conflicts);
            }
            setSeen(p, latest);
            boolean deletedHere = conflicts.stream().anyMatch(k -> uncommitted.removed().contains(k));
            throw new ConflictException(conflictMessage(p, registry, target, conflicts, deletedHere, blockedKeys,
                    writing), conflicts);
        }
        String newHead = target;
        boolean merged = !committed.isEmpty();
        Manifest m = merged ? merge(remote, head, committed) : null;
        if (merged) {
            newHead = m.topHash();
        }
        if (finishing && s.pullingHead != null && !s.pullingHead.equals(newHead)) {
            // The head or the base moved under the marker (the lineage edited by hand, or by another
            // build): finishing now would make another revision than the one the files were for.
            hashCache.save();
            throw new ConflictException("cannot finish the interrupted pull of " + p.name() + " (to " + target
                    + "): it was making the head " + s.pullingHead + " but the lineage now makes " + newHead
                    + " (the package's head or base changed since it stopped); nothing more was changed. Run"
                    + " `quiltfs pull " + p.name() + " --abandon` to put back your head's files, then pull again");
        }
        if (merged) {
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
        // What the check saw of each file the pull changes: one edited since (the fetching below
        // takes minutes on a large pull) is kept, and the pull stops naming it.
        Map<String, WorkingFiles.FileStat> looked = new java.util.HashMap<>();
        for (String k : deleted) {
            looked.put(k, plan.now.getOrDefault(k, WorkingFiles.ABSENT));
        }
        for (Entry e : toPlace) {
            looked.put(e.logicalKey(), plan.now.getOrDefault(e.logicalKey(), WorkingFiles.ABSENT));
        }
        WorkingFiles guarded = files.guarded(looked);
        Install.Placer placer = new Install.Placer(new Fetcher(new ObjectCache(home), sources), guarded,
                hashCache, progress, "pull.placing");
        try {
            placer.prefetchAll(toPlace);
        } catch (RegistryException.NotFound e) {
            throw new RegistryException.NotFound("cannot pull " + p.name() + " (" + (finishing ? "the interrupted"
                    + " pull to " : "latest ") + target + " of " + registry.uri() + "): " + e.getMessage()
                    + (finishing ? "; the files it placed before it stopped stay, and `quiltfs status " + p.name()
                    + "` tells them from your edits; `quiltfs pull " + p.name() + " --abandon` gives up that pull"
                    + " and puts back your head's files" : "; nothing was changed"));
        }
        String top = newHead;
        if (!finishing) {
            // From here until the lineage moves, the working files are partly the remote's: the
            // marker says so (status, commit, push), and what to finish if this stops.
            mark(p, target, top);
        }
        Checkpoints.reach("pull.after-mark");
        progress.begin("pulling", toPlace.size(), bytes);
        try {
            // Deletions first: a key the remote turned from a file into a folder (or back)
            // needs the old one out of the way. Each deleted file is unchanged here, and its
            // content stays in the base revision.
            for (String k : deleted) {
                try {
                    guarded.delete(k);
                } catch (IOException | RuntimeException e) {
                    throw new Incomplete(p.name(), target, k, false, e);
                }
                hashCache.remove(k);
            }
            Checkpoints.reach("pull.after-deletions");
            placeInOrder(p, placer, toPlace, head, target, finishing ? s.pullPlaced : null,
                    finishing ? s.pullPlacing : null, finishing ? s.pullBegun : null, finishing ? s.pullUnsure : null);
        } finally {
            progress.end();
            hashCache.save();
        }
        Checkpoints.reach("pull.after-files");
        String seen = finishing && damaged == null ? latest : target;
        Lineage.update(home, l -> {
            PackageState n = l.get(p.name());
            if (n == null) {
                throw new NotInstalledException(p.name());
            }
            n.base = target;
            n.latestSeen = seen;
            n.head = top;
            n.commits.clear();
            if (merged) {
                n.commits.add(top);
            }
            n.pulling = null;
            n.pullingHead = null;
            n.pullPlaced = null;
            n.pullPlacing = null;
            n.pullBegun = null;
            n.pullUnsure = null;
            l.put(p.name(), n);
            return null;
        });
        List<String> updated = new ArrayList<>();
        toPlace.forEach(e -> updated.add(e.logicalKey()));
        String message = merged
                ? "merged " + registry.uri() + "'s latest " + target + " with your commits into " + top
                        + " (push it with `quiltfs push " + p.name() + "`)"
                : p.name() + " is now at " + target;
        List<String> maybe = new ArrayList<>();
        List<String> back = new ArrayList<>();
        if (finishing) {
            message = "finished the interrupted pull: " + message;
            back.addAll(plan.putBack);
            back.retainAll(updated);
            if (!back.isEmpty()) {
                message += "; put back " + quoted(back) + ", removed since the pull stopped: remove "
                        + (back.size() == 1 ? "it" : "them") + " again if you meant to";
            }
            maybe.addAll(plan.maybeBack);
            maybe.retainAll(updated);
            if (!maybe.isEmpty()) {
                // Mostly files it had not reached yet: nothing the user did. Named when few, else
                // in --json (placed_of_batch), so that a whole range does not read as removals.
                message += "; " + maybe.size() + (maybe.size() == 1 ? " file" : " files") + " of the range it was"
                        + " placing when it stopped " + (maybe.size() == 1 ? "was" : "were") + " placed"
                        + (maybe.size() <= NAMED_OF_BATCH ? " (" + quoted(maybe) + ")" : "")
                        + " (any you removed since " + (maybe.size() == 1 ? "is" : "are") + " back)";
            }
            if (latest != null && !latest.equals(target)) {
                message += "; " + registry.uri() + "'s latest has moved on to " + latest + " since: run `quiltfs pull "
                        + p.name() + "` again to take it in";
            }
            if (damaged != null) {
                message += "; " + registry.uri() + "'s latest is damaged: " + damaged.getMessage() + " (`quiltfs push "
                        + p.name() + " --force` replaces it)";
            }
        }
        return new Result(top, latest, true, merged, updated, deleted, maybe, back, message);
    }

    /** What a pull of {@code target} would do, found before it changes anything. */
    private record Plan(Manifest remote, Manifest head, Set<String> remoteChanged, Set<String> committed,
                        WorkingFiles files, HashCache hashCache, PathFilter filter, Status.Changes uncommitted,
                        List<String> putBack, List<String> maybeBack, List<String> conflicts, List<String> blocked,
                        List<String> writing, Map<String, WorkingFiles.FileStat> now) {
    }

    /**
     * How many additions a record of a pull's progress in the lineage lets start beyond the ones
     * started before it (tests make it small): the lineage is written once per this many additions,
     * and at most this many additions started after the last record of the finished prefix are
     * unsure when the pull stops.
     */
    static volatile int batch = 256;

    /**
     * Places {@code toPlace} (in walk order) on one continuous pool ({@link Install.Placer#placeInOrder}):
     * no file waits for a slower one started before it. Before the additions (keys the head lacks)
     * beyond the ones allowed so far start, the lineage records how far the pull may go
     * ({@link PackageState#pullPlacing}: {@link #batch} more additions) and the longest finished
     * prefix ({@link PackageState#pullPlaced}: every addition up to it is placed), with the additions
     * past it known placed ({@link PackageState#pullBegun}, {@link PackageState#pullUnsure}); once more
     * when a file fails (best effort, after every file begun has ended); after the last file, that
     * all are placed. So at any instant an addition up to {@code pullPlaced} is placed, one
     * after {@code pullPlacing} has not begun, and finishing tells an addition removed since the
     * stop from one not placed yet. {@code placed}: the additions already placed (finishing), else
     * null; {@code placing}: the end of the range the stopped pull may have placed in (finishing),
     * else null; {@code oldBegun}, {@code oldUnsure}: the stopped pull's {@link PackageState#pullBegun}
     * and {@link PackageState#pullUnsure} (finishing), else null. Neither record moves back while
     * finishing: a run that stops again before it passes the earlier {@code placing} still records
     * it, or a file the first run placed there and the user removed would fall outside both ranges
     * and be placed again without a word; and it merges the earlier {@code begun} and {@code unsure}
     * into its own until its prefix passes them, or a file the first run placed after a slow one and
     * the user removed would drop from "put back" to "maybe placed".
     */
    private static void placeInOrder(InstalledPackage p, Install.Placer placer, List<Entry> toPlace, Manifest head,
                                     String target, String placed, String placing, String oldBegun,
                                     List<String> oldUnsure) throws IOException {
        int n = Math.max(1, batch);
        int size = toPlace.size();
        boolean[] added = new boolean[size];
        for (int i = 0; i < size; i++) {
            added[i] = head.get(toPlace.get(i).logicalKey()) == null;
        }
        // lastAdded[i]: the last addition before index i (null: none).
        String[] lastAdded = new String[size + 1];
        for (int i = 0; i < size; i++) {
            lastAdded[i + 1] = added[i] ? toPlace.get(i).logicalKey() : lastAdded[i];
        }
        // The stopped run's record past its prefix (finishing): kept, merged into this run's, until
        // this run's prefix passes it, so that no addition it knew placed drops back to "maybe".
        Set<String> oldOpen = oldBegun == null || oldUnsure == null ? Set.of() : new java.util.HashSet<>(oldUnsure);
        Map<String, Integer> oldIndex = new java.util.HashMap<>();
        if (!oldOpen.isEmpty()) {
            for (int i = 0; i < size; i++) {
                if (oldOpen.contains(toPlace.get(i).logicalKey())) {
                    oldIndex.put(toPlace.get(i).logicalKey(), i);
                }
            }
        }
        String[] recorded = {placed, null}; // what the lineage says now: pullPlaced and pullPlacing
        boolean[] wrote = {false}; // this run wrote a record (whose pullPlacing names additions begun)
        int[] reserves = {0};
        IOException[] unrecorded = {null};
        // Records the prefix placed, how far this run may go (nowPlacing), and the additions up to
        // `limit` (the rows before it may have begun) that are not known to be placed.
        interface Record {
            void write(int finished, int limit, String nowPlacing, Install.Placer.Unfinished unfinished)
                    throws IOException;
        }
        Record record = (finished, limit, nowPlacing, unfinished) -> {
            String nowPlaced = later(recorded[0], lastAdded[finished]);
            String liveBegun = oldBegun != null && !atOrBefore(oldBegun, nowPlaced) ? oldBegun : null;
            // The additions begun and not placed yet (a large file, the rows of the other pool),
            // found among the rows not placed (never a scan of the placed ones): named, up to UNSURE
            // of them; past that, the range after them is unsure as a whole.
            java.util.TreeSet<String> open = new java.util.TreeSet<>(LogicalKey.WALK_ORDER);
            String begun = lastAdded[limit];
            boolean cut = false;
            int looked = 0;
            for (int j = unfinished.from(finished); j < limit; j = unfinished.from(j + 1)) {
                if (++looked > LOOKED || added[j] && open.size() > UNSURE) {
                    begun = lastAdded[j];
                    cut = true;
                    break;
                }
                if (!added[j]) {
                    continue;
                }
                String k = toPlace.get(j).logicalKey();
                if (atOrBefore(k, nowPlaced) || liveBegun != null && atOrBefore(k, liveBegun) && !oldOpen.contains(k)) {
                    continue; // placed by the stopped run, gone since: placed as far as finishing goes
                }
                open.add(k);
            }
            if (liveBegun != null) {
                if (!cut) {
                    begun = later(begun, liveBegun);
                }
                for (String k : oldOpen) {
                    Integer i = oldIndex.get(k);
                    // Not in this run's rows: in place when it looked, so placed.
                    if (!atOrBefore(k, nowPlaced) && atOrBefore(k, begun) && i != null && unfinished.from(i) == i) {
                        open.add(k);
                    }
                }
            }
            if (open.size() > UNSURE) {
                begun = new ArrayList<>(open).get(UNSURE - 1);
                open = new java.util.TreeSet<>(open.headSet(begun, true));
            }
            if (begun != null && atOrBefore(begun, nowPlaced)) {
                begun = null; // nothing known beyond the prefix
            }
            if (begun == null) {
                open.clear();
            }
            recordPlaced(p, nowPlaced, nowPlacing, begun, open.isEmpty() ? null : new ArrayList<>(open));
            recorded[0] = nowPlaced;
            recorded[1] = nowPlacing;
            wrote[0] = true;
        };
        Install.Placer.Reservation reservation = new Install.Placer.Reservation() {
            @Override
            public int reserve(int next, int finished, Install.Placer.Unfinished unfinished) throws IOException {
                int adds = 0;
                int end = size - 1;
                String last = null;
                for (int j = next; j < size; j++) {
                    if (added[j]) {
                        if (adds == n) {
                            end = j - 1; // rows up to the next addition need no record
                            break;
                        }
                        adds++;
                        last = toPlace.get(j).logicalKey();
                    }
                }
                if (last != null) {
                    try {
                        record.write(finished, next, later(later(last, recorded[1]), placing), unfinished);
                    } catch (IOException e) {
                        unrecorded[0] = e;
                        throw e;
                    }
                    if (reserves[0]++ > 0 || placed != null) {
                        Checkpoints.reach("pull.later-batch"); // recorded, none of the new range begun yet
                    }
                }
                return end;
            }

            @Override
            public void stopped(int finished, int end, Install.Placer.Unfinished unfinished) throws IOException {
                if (wrote[0]) {
                    // What is known now, so that the files placed after the last record are not
                    // merely "of the range" to the finishing run.
                    record.write(finished, end, later(recorded[1], placing), unfinished);
                }
            }
        };
        try {
            placer.placeInOrder(toPlace, reservation);
        } catch (IOException | RuntimeException e) {
            if (unrecorded[0] != null) {
                throw unrecorded[0];
            }
            throw new Incomplete(p.name(), target, placer.keyOf(e), true, e);
        }
        if (wrote[0]) {
            // Stopped before the lineage moves: none of these is unsure, but an earlier run's range
            // past the last addition placed now (keys this run did not place) stays as it was.
            String all = later(placed, lastAdded[size]);
            String keepBegun = oldBegun != null && !atOrBefore(oldBegun, all) ? oldBegun : null;
            List<String> keepUnsure = new ArrayList<>();
            if (keepBegun != null && oldUnsure != null) {
                oldUnsure.stream().filter(k -> !atOrBefore(k, all)).forEach(keepUnsure::add);
            }
            recordPlaced(p, all, placing != null && !atOrBefore(placing, all) ? placing : null, keepBegun,
                    keepUnsure.isEmpty() ? null : keepUnsure);
        }
    }

    /** Whether {@code k} comes at or before {@code bound} in walk order (a null bound: nothing does). */
    private static boolean atOrBefore(String k, String bound) {
        return bound != null && LogicalKey.WALK_ORDER.compare(k, bound) <= 0;
    }

    /**
     * At most this many rows not placed are looked at per record: past them (rows of one pool far
     * behind the other's), the range is unsure as a whole, so a record costs the same at any size.
     */
    static final int LOOKED = 1024;

    /** The later of two keys in walk order (null: none). */
    private static String later(String a, String b) {
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        return LogicalKey.WALK_ORDER.compare(a, b) >= 0 ? a : b;
    }

    /** At most this many additions are named in {@link PackageState#pullUnsure}. */
    static final int UNSURE = 64;

    /** Records the progress of the marked pull of {@code p}: see {@link PackageState#pullPlaced}. */
    private static void recordPlaced(InstalledPackage p, String placed, String placing, String begun,
                                     List<String> open) throws IOException {
        Lineage.update(p.home(), l -> {
            PackageState n = l.get(p.name());
            if (n == null) {
                throw new NotInstalledException(p.name());
            }
            n.pullPlaced = placed;
            n.pullPlacing = placing;
            n.pullBegun = begun;
            n.pullUnsure = open;
            l.put(p.name(), n);
            return null;
        });
    }

    /** What the lineage of a stopped pull says of one addition: placed, maybe placed, or not begun. */
    enum Placed { SURELY, MAYBE, NOT_BEGUN }

    /**
     * What the records of the stopped pull {@code s} ({@link PackageState#pullPlaced},
     * {@link PackageState#pullBegun}, {@link PackageState#pullUnsure},
     * {@link PackageState#pullPlacing}) say of the addition {@code k}.
     */
    static Placed placed(PackageState s, Set<String> unsure, String k) {
        if (s.pullPlaced != null && LogicalKey.WALK_ORDER.compare(k, s.pullPlaced) <= 0) {
            return Placed.SURELY;
        }
        if (s.pullBegun != null && LogicalKey.WALK_ORDER.compare(k, s.pullBegun) <= 0) {
            return unsure.contains(k) ? Placed.MAYBE : Placed.SURELY;
        }
        if (s.pullPlacing != null && LogicalKey.WALK_ORDER.compare(k, s.pullPlacing) <= 0) {
            return Placed.MAYBE;
        }
        return Placed.NOT_BEGUN;
    }

    /**
     * The keys {@code target} adds (the head has none) that a pull places, are gone from the
     * working folder (not {@code present}), and that the records of the stopped pull {@code s} say
     * were {@code which} placed: placed by it, then removed, when {@link Placed#SURELY}.
     */
    private static List<String> goneAdditions(Manifest target, Manifest head, Set<String> targetChanged,
                                              Set<String> committed, PathFilter filter, PackageState s, Placed which,
                                              java.util.function.Predicate<String> present) {
        List<String> out = new ArrayList<>();
        if (s.pullPlaced == null && s.pullPlacing == null) {
            return out;
        }
        Set<String> unsure = s.pullUnsure == null ? Set.of() : new java.util.HashSet<>(s.pullUnsure);
        for (String k : targetChanged) {
            if (target.get(k) != null && head.get(k) == null && filter.matches(k) && !committed.contains(k)
                    && placed(s, unsure, k) == which && !present.test(k)) {
                out.add(k);
            }
        }
        return out;
    }

    /**
     * The checks of a pull of {@code target} ({@code finishing}: of the interrupted pull's
     * revision), up to the conflicts it refuses; the working files are hashed, nothing is changed.
     */
    private static Plan plan(InstalledPackage p, Registry registry, String target, boolean finishing)
            throws IOException {
        PackageState s = p.state();
        Manifest base = s.base == null ? Manifest.builder().build() : p.manifest(s.base, registry);
        Manifest remote;
        try {
            remote = p.manifest(target, registry);
        } catch (RegistryException.NotFound e) {
            throw new RegistryException.NotFound("cannot pull " + p.name() + ": " + (finishing
                    ? "the interrupted pull was taking in the revision " + target + ", whose manifest is missing"
                    + " from this home and from " + registry.uri()
                    : "its latest in " + registry.uri() + " names the revision " + target + ", whose manifest is"
                    + " missing there") + " (the registry is damaged, or someone moved latest by hand); nothing was"
                    + " changed. " + (finishing ? "Run `quiltfs pull " + p.name() + " --abandon` to give up that pull"
                    + " (the files it placed go back to your head's), or ask" : "Ask")
                    + " whoever looks after the registry to restore it or to point latest at a revision"
                    + " that exists");
        }
        Manifest head = p.head();
        Set<String> remoteChanged = diff(base, remote);
        Set<String> committed = diff(base, head);
        WorkingFiles files = p.presentFiles();
        HashCache hashCache = p.hashCache();
        PathFilter filter = p.filter();
        Map<String, WorkingFiles.FileStat> now = files.scan();
        Status.Changes found = Status.changes(files, now, head, filter, hashCache,
                HashType.SHA2_256_CHUNKED, Status.plain(files));
        Status.Changes uncommitted = finishing ? withoutGone(found, remote, remoteChanged, committed) : found;
        List<String> putBack = new ArrayList<>(found.removed());
        putBack.removeAll(uncommitted.removed());
        List<String> maybeBack = List.of();
        if (finishing) {
            // Additions the stopped pull placed and that are gone now: removed since, put back as a
            // removed head file is. Those of the range it was placing cannot be told from not placed.
            Set<String> present = new java.util.HashSet<>(found.added());
            putBack.addAll(goneAdditions(remote, head, remoteChanged, committed, filter, s, Placed.SURELY,
                    present::contains));
            putBack.sort(LogicalKey.WALK_ORDER);
            maybeBack = goneAdditions(remote, head, remoteChanged, committed, filter, s, Placed.MAYBE,
                    present::contains);
        }
        // Keys whose working file already holds the remote's content (placed by the interrupted
        // pull, or made so by hand) are in `local`: they are neither conflicts nor placed again.
        Set<String> local = uncommitted.keys();
        List<String> conflicts = conflicts(remote, head, remoteChanged, committed, uncommitted, files);
        // A folder holding a file of the user's stands there too, but that clash is named already:
        // only the others are folders with no files in them, as the refusal says.
        List<String> blockedKeys = new ArrayList<>(blocked(files, remote, remoteChanged, filter, local, committed));
        blockedKeys.removeAll(conflicts);
        conflicts.addAll(blockedKeys);
        List<String> writing = openForWriting(files, remoteChanged, filter, local, committed);
        for (String k : writing) {
            if (!conflicts.contains(k)) {
                conflicts.add(k);
            }
        }
        return new Plan(remote, head, remoteChanged, committed, files, hashCache, filter, uncommitted, putBack,
                maybeBack, conflicts, blockedKeys, writing, now);
    }

    /**
     * The keys that finishing the interrupted pull of {@code p} would refuse (empty: it would go
     * through), by the same checks; null when they cannot be made (the revision's manifest is
     * missing here and in the registry: finishing fails, {@code --abandon} is the way out).
     */
    public static List<String> unfinishedConflicts(InstalledPackage p, Registry registry) throws IOException {
        String target = p.state().pulling;
        if (target == null) {
            return List.of();
        }
        try {
            Plan plan = plan(p, registry, target, true);
            plan.hashCache.save();
            return plan.conflicts;
        } catch (RegistryException.NotFound e) {
            return null;
        }
    }

    /**
     * Whether the home holds the manifests that tell the files of the unfinished pull of {@code p}
     * from the user's edits (its base's and its revision's); false also when no pull is unfinished.
     */
    public static boolean canTell(InstalledPackage p) {
        PackageState s = p.state();
        return s.pulling != null && p.keeps(s.pulling) && (s.base == null || p.keeps(s.base));
    }

    /** What status says of an unfinished pull whose manifests are gone ({@link #canTell} false). */
    public static String untoldLine(io.quiltfs.store.registry.PackageName pkg, String target) {
        return "the pull of " + pkg + " to " + target + " did not finish, and its manifests are gone from this home"
                + " and the registry, so the files it already wrote are listed below as changes: ask whoever looks"
                + " after the registry to restore the revision (then `quiltfs pull " + pkg + "` finishes it, or"
                + " `--abandon` gives it up), or run `quiltfs uninstall " + pkg + " --force` and install it again"
                + " (that loses your unpushed commits and uncommitted edits)";
    }

    /**
     * The keys finishing the interrupted pull of {@code p} would put back: in {@code c} (the
     * changes status shows) as removed, though that revision has them (a working file removed or
     * moved aside since the pull stopped), and the keys the revision adds that the pull recorded as
     * placed ({@link PackageState#pullPlaced}) whose file is gone. Reads the manifests the pull
     * kept in the home.
     */
    public static List<String> putBack(InstalledPackage p, Status.Changes c) throws IOException {
        PackageState s = p.state();
        if (s.pulling == null || (c.removed().isEmpty() && s.pullPlaced == null && s.pullBegun == null)
                || !canTell(p)) {
            return List.of();
        }
        Manifest base = s.base == null ? Manifest.builder().build() : p.manifest(s.base, null);
        Manifest target = p.manifest(s.pulling, null);
        Manifest head = p.head();
        Set<String> targetChanged = diff(base, target);
        Set<String> committed = diff(base, head);
        Status.Changes kept = withoutGone(c, target, targetChanged, committed);
        List<String> out = new ArrayList<>(c.removed());
        out.removeAll(kept.removed());
        WorkingFiles files = p.presentFiles();
        java.util.function.Predicate<String> present = k -> {
            try {
                return files.stat(k) != null;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        try {
            out.addAll(goneAdditions(target, head, targetChanged, committed, p.filter(), s, Placed.SURELY, present));
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        out.sort(LogicalKey.WALK_ORDER);
        return out;
    }

    /**
     * Gives up the interrupted pull of {@code pkg} (for when it cannot finish: its revision's
     * manifest or objects are gone from the registry): the keys that revision changed (and no local
     * commit did) whose working file holds its content, or is gone where it removed the key, get
     * the head's content back (placed from the object cache or the registry, or removed where the
     * head has no such key); then the marker is cleared. Edits made since the pull stopped are not
     * touched: one that stands in the way of a file going back is refused, named, and nothing is
     * changed. Killed half-way, the marker stays and running it again finishes it. The base and
     * revision manifests come from the home, else from {@code registry} (null: not asked).
     */
    public static Result abandon(InstalledPackage pkg, Registry registry, Function<PhysicalKey, ObjectSource> sources,
                                 Progress progress) throws IOException {
        Home home = pkg.home();
        try (HomeLock lock = HomeLock.acquire(home.packageLock(pkg.name()))) {
            InstalledPackage p = InstalledPackage.require(home, pkg.name());
            PackageState s = p.state();
            if (s.pulling == null) {
                return new Result(s.head, s.latestSeen, false, false, List.of(), List.of(), List.of(), List.of(),
                        "nothing to abandon: no"
                        + " pull of " + p.name() + " is unfinished");
            }
            String target = s.pulling;
            Manifest base = s.base == null ? Manifest.builder().build()
                    : abandonManifest(p, registry, target, s.base, "the base revision " + s.base);
            Manifest remote = abandonManifest(p, registry, target, target, "its revision");
            Manifest head = p.head();
            Set<String> committed = diff(base, head);
            WorkingFiles files = p.presentFiles();
            HashCache hashCache = p.hashCache();
            PathFilter filter = p.filter();
            Map<String, WorkingFiles.FileStat> now = files.scan();
            Status.Changes found = Status.changes(files, now, head, filter, hashCache, HashType.SHA2_256_CHUNKED,
                    Status.plain(files));
            List<Entry> toPlace = new ArrayList<>();
            List<String> deleted = new ArrayList<>();
            Set<String> leaving = new java.util.HashSet<>();
            long bytes = 0;
            for (String k : diff(base, remote)) {
                if (!filter.matches(k) || committed.contains(k) || !found.keys().contains(k)
                        || !holds(files, found, k, remote.get(k))) {
                    continue; // as the head has it, or edited since the pull stopped: left alone
                }
                Entry h = head.get(k);
                if (h == null) {
                    deleted.add(k);
                    leaving.add(k);
                } else {
                    toPlace.add(h);
                    bytes += h.size();
                }
            }
            List<String> inTheWay = new ArrayList<>();
            java.util.NavigableSet<String> present = new TreeSet<>(now.keySet());
            present.removeAll(leaving);
            for (Entry e : toPlace) {
                String k = e.logicalKey();
                if (files.openForWriting(k)) {
                    inTheWay.add(k);
                }
                for (int slash = k.indexOf('/'); slash > 0; slash = k.indexOf('/', slash + 1)) {
                    if (present.contains(k.substring(0, slash))) {
                        inTheWay.add(k.substring(0, slash));
                    }
                }
                String under = present.ceiling(k + "/");
                if (under != null && under.startsWith(k + "/")) {
                    inTheWay.add(under);
                } else if (!present.contains(k) && files.blocked(k, leaving)) {
                    inTheWay.add(k);
                }
            }
            for (String k : deleted) {
                if (files.openForWriting(k) && !inTheWay.contains(k)) {
                    inTheWay.add(k);
                }
            }
            if (!inTheWay.isEmpty()) {
                hashCache.save();
                throw new ConflictException("cannot abandon the pull of " + p.name() + " to " + target + ": "
                        + quoted(inTheWay) + (inTheWay.size() == 1 ? " stands" : " stand") + " where your head's files"
                        + " go back (edited here since the pull stopped, or open for writing through the mount);"
                        + " nothing was changed. Move " + (inTheWay.size() == 1 ? "it" : "them") + " aside (or close)"
                        + " and run `quiltfs pull " + p.name() + " --abandon` again", inTheWay);
            }
            Install.Placer placer = new Install.Placer(new Fetcher(new ObjectCache(home), sources), files,
                    hashCache, progress, "pull.abandoning");
            try {
                placer.prefetchAll(toPlace);
            } catch (RegistryException.NotFound e) {
                throw new RegistryException.NotFound("cannot abandon the pull of " + p.name() + " to " + target
                        + ": your head's content is missing: " + e.getMessage() + "; nothing was changed. Ask whoever"
                        + " looks after the registry to restore it, or run `quiltfs uninstall " + p.name() + " --force`"
                        + " and install it again (that loses your unpushed commits and uncommitted edits)");
            }
            progress.begin("abandoning the pull", toPlace.size(), bytes);
            try {
                for (String k : deleted) {
                    try {
                        files.delete(k);
                    } catch (IOException | RuntimeException e) {
                        throw new Incomplete(p.name(), target, k, false, e, true);
                    }
                    hashCache.remove(k);
                }
                Checkpoints.reach("pull.abandon-after-deletions");
                try {
                    placer.placeAll(toPlace);
                } catch (IOException | RuntimeException e) {
                    throw new Incomplete(p.name(), target, placer.keyOf(e), true, e, true);
                }
            } finally {
                progress.end();
                hashCache.save();
            }
            mark(p, null, null);
            List<String> updated = new ArrayList<>();
            toPlace.forEach(e -> updated.add(e.logicalKey()));
            // A key the revision removes whose file is gone: the pull removed it, or the user did
            // since it stopped (before the pull reached it); the two cannot be told apart.
            List<String> back = new ArrayList<>(updated);
            back.retainAll(found.removed());
            String message = "abandoned the pull of " + p.name() + " to " + target + ": its files are back to the"
                    + " head " + s.head;
            if (back.isEmpty()) {
                message += " (edits you made since it stopped were left as they are)";
            } else {
                message += "; put back " + quoted(back) + " (removed by the pull, or by you since it stopped):"
                        + " remove " + (back.size() == 1 ? "it" : "them") + " again if you meant to; other edits you"
                        + " made since it stopped were left as they are";
            }
            return new Result(s.head, s.latestSeen, false, false, updated, deleted, List.of(), back, message);
        }
    }

    /**
     * A manifest {@code abandon} needs to tell the pull's files from the user's edits: from the
     * home, else from {@code registry}; missing from both, the one line says what to do (pulling
     * cannot bring it back while the pull is marked).
     */
    private static Manifest abandonManifest(InstalledPackage p, Registry registry, String target, String top,
                                            String what) throws IOException {
        try {
            return p.manifest(top, registry);
        } catch (IOException e) {
            String where = registry == null ? " is missing from " + p.home().root()
                    : " could not be read from " + p.home().root() + " nor from " + registry.uri() + " ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().replace('\n', ' ')) + ")";
            RegistryException.NotFound nf = new RegistryException.NotFound("cannot abandon the pull of " + p.name()
                    + " to " + target + ": the"
                    + " manifest of " + what + where + ", so the files the pull placed cannot be told from your edits;"
                    + " nothing was changed. Ask whoever looks after the registry to restore it (or try again once"
                    + " it can be reached), or run `quiltfs uninstall " + p.name() + " --force` and install it again"
                    + " (that loses your unpushed commits and uncommitted edits)");
            nf.initCause(e);
            throw nf;
        }
    }

    /** Up to ten keys, quoted and printable, then how many more. */
    private static String quoted(List<String> keys) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(10, keys.size()); i++) {
            sb.append(i == 0 ? "" : ", ").append('\'').append(LogicalKey.printable(keys.get(i))).append('\'');
        }
        if (keys.size() > 10) {
            sb.append(" and ").append(keys.size() - 10).append(" more");
        }
        return sb.toString();
    }

    /**
     * The changes without the keys the interrupted pull takes in whose working file is gone: moved
     * aside (as its refusal says to do) or removed since it stopped, they get the pulled content
     * (what the user removed held the base's content, which the registry keeps).
     */
    private static Status.Changes withoutGone(Status.Changes c, Manifest remote, Set<String> remoteChanged,
                                              Set<String> committed) {
        List<String> removed = new ArrayList<>();
        for (String k : c.removed()) {
            if (!remoteChanged.contains(k) || committed.contains(k) || remote.get(k) == null) {
                removed.add(k);
            }
        }
        return new Status.Changes(c.added(), c.modified(), removed, c.hashes(), c.stats());
    }

    /** Sets (or, with nulls, clears) the unfinished-pull marker of {@code p} in the lineage. */
    private static void mark(InstalledPackage p, String target, String head) throws IOException {
        Lineage.update(p.home(), l -> {
            PackageState n = l.get(p.name());
            if (n == null) {
                throw new NotInstalledException(p.name());
            }
            n.pulling = target;
            n.pullingHead = head;
            n.pullPlaced = null;
            n.pullPlacing = null;
            n.pullBegun = null;
            n.pullUnsure = null;
            l.put(p.name(), n);
            return null;
        });
    }

    /**
     * A pull that stopped while it changed the working files (a file could not be written or
     * removed): its marker stays in the lineage, and {@code pull} run again, once the cause is
     * fixed, finishes it. Carries the key and the cause for the one line the user sees.
     */
    public static final class Incomplete extends IOException {
        private final Exception reason;
        private final String key;
        private final String head;
        private final String tail;
        /** Stopped for an edit made while it ran, which it kept: the line is whole without the cause. */
        private final boolean kept;

        Incomplete(io.quiltfs.store.registry.PackageName pkg, String target, String key, boolean writing,
                   Exception reason) {
            this(pkg, target, key, writing, reason, false);
        }

        Incomplete(io.quiltfs.store.registry.PackageName pkg, String target, String key, boolean writing,
                   Exception reason, boolean abandoning) {
            super(reason);
            this.reason = reason;
            this.key = key;
            ChangedMeanwhileException edit = changedMeanwhile(reason);
            this.kept = edit != null && !abandoning;
            if (kept) {
                this.head = "cannot pull " + pkg + ": " + edit.getMessage();
                this.tail = ", so it was kept as it is; the pull to " + target + " stopped half-way (the files it"
                        + " already changed hold the registry's content): move your version aside (or undo the"
                        + " change) and run `quiltfs pull " + pkg + "` to finish it, or run `quiltfs pull " + pkg
                        + " --abandon` to give the pull up and keep working on your version";
                return;
            }
            this.head = (abandoning ? "cannot abandon the pull of " : "cannot pull ") + pkg + ": " + (key == null ? "a file could not be " + (writing ? "written"
                    : "removed") : "'" + LogicalKey.printable(key) + "' could not be " + (writing ? "written" : "removed"))
                    + " (";
            this.tail = abandoning ? "); some files of the pull to " + target + " are back to the head's, some not"
                    + " (your own edits were not touched): fix that and run `quiltfs pull " + pkg + " --abandon` again"
                    : "); the pull to " + target + " stopped half-way (your own edits were not touched): fix that"
                    + " and run `quiltfs pull " + pkg + "` to finish it";
        }

        /** The edit the pull kept and stopped for, found in {@code t}'s causes, else null. */
        private static ChangedMeanwhileException changedMeanwhile(Throwable t) {
            for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
                if (c instanceof ChangedMeanwhileException k) {
                    return k;
                }
            }
            return null;
        }

        /** What stopped the pull. */
        public Exception reason() {
            return reason;
        }

        /** The logical key being written or removed when it stopped, or null when not known. */
        public String key() {
            return key;
        }

        /**
         * Whether the pull stopped because a working file it was to change was edited while it
         * ran ({@link ChangedMeanwhileException}): kept as it is, which finishing refuses as a
         * conflict until it is moved aside.
         */
        public boolean keptAnEdit() {
            return kept;
        }

        /** The one line, with the cause as {@code cause} says it. */
        public String message(String cause) {
            return kept ? head + tail : head + cause + tail;
        }

        @Override
        public String getMessage() {
            String m = reason.getMessage();
            return message(m == null || m.isBlank() ? reason.getClass().getSimpleName() : m.replace('\n', ' '));
        }
    }

    /** The error commit, push and install give while a pull has not finished. */
    static ConflictException unfinished(io.quiltfs.store.registry.PackageName pkg, String target, String verb) {
        return new ConflictException(unfinishedLine(pkg, target) + ", then " + verb + " again");
    }

    /** What status says while a pull has not finished. */
    public static String unfinishedLine(io.quiltfs.store.registry.PackageName pkg, String target) {
        return "the pull of " + pkg + " to " + target + " did not finish: run `quiltfs pull " + pkg + "` to finish it";
    }

    /**
     * {@code c} (the working files against the head) without the changes that are the unfinished
     * pull's own work: keys that revision changed (and no local commit did) whose working file
     * holds that revision's content, or is gone where that revision removed the key. Reads the
     * base and target manifests, which the pull kept in the home; when one is gone from it
     * ({@link #canTell} false), {@code c} as it is: the pull's files cannot be told from edits.
     */
    static Status.Changes withoutPulled(InstalledPackage p, WorkingFiles files, Status.Changes c) throws IOException {
        PackageState s = p.state();
        if (!canTell(p)) {
            return c;
        }
        Manifest base = s.base == null ? Manifest.builder().build() : p.manifest(s.base, null);
        Manifest target = p.manifest(s.pulling, null);
        Manifest head = p.head();
        Set<String> mine = new java.util.HashSet<>();
        for (String k : c.keys()) {
            if (!same(base.get(k), target.get(k)) && same(base.get(k), head.get(k))
                    && holds(files, c, k, target.get(k))) {
                mine.add(k);
            }
        }
        if (mine.isEmpty()) {
            return c;
        }
        Map<String, Checksum> hashes = new java.util.TreeMap<>(LogicalKey.WALK_ORDER);
        Map<String, WorkingFiles.FileStat> stats = new java.util.TreeMap<>(LogicalKey.WALK_ORDER);
        c.hashes().forEach((k, h) -> {
            if (!mine.contains(k)) {
                hashes.put(k, h);
                stats.put(k, c.stats().get(k));
            }
        });
        return new Status.Changes(keep(c.added(), mine), keep(c.modified(), mine), keep(c.removed(), mine), hashes,
                stats);
    }

    private static List<String> keep(List<String> keys, Set<String> drop) {
        List<String> out = new ArrayList<>(keys.size());
        for (String k : keys) {
            if (!drop.contains(k)) {
                out.add(k);
            }
        }
        return out;
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

    /**
     * Whether the changed working file of {@code k} already is what the remote has (gone, where
     * the remote has no {@code k}). A file hashed with another type than the remote's row (the
     * head's row had another) is hashed again with the row's type.
     */
    private static boolean holds(WorkingFiles files, Status.Changes c, String k, Entry remote) throws IOException {
        if (c.removed().contains(k)) {
            return remote == null;
        }
        Checksum h = c.hashes().get(k);
        if (remote == null || h == null || c.stats().get(k).size() != remote.size()) {
            return false;
        }
        if (h.type() == remote.hash().type()) {
            return h.equals(remote.hash());
        }
        return files.read(k, f -> io.quiltfs.store.hash.FileHasher.hash(f, remote.hash().type())).equals(remote.hash());
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

    private static String unfinishedConflictMessage(InstalledPackage p, String target, List<String> keys,
                                                    List<String> writing) {
        StringBuilder sb = new StringBuilder();
        sb.append("cannot finish the interrupted pull of ").append(p.name()).append(" (to ").append(target)
                .append("): ").append(keys.size()).append(keys.size() == 1 ? " key it takes in was" : " keys it takes in were")
                .append(" changed here since it stopped: ");
        for (int i = 0; i < Math.min(10, keys.size()); i++) {
            sb.append(i == 0 ? "" : ", ").append('\'').append(LogicalKey.printable(keys.get(i))).append('\'');
        }
        if (keys.size() > 10) {
            sb.append(" and ").append(keys.size() - 10).append(" more");
        }
        if (!writing.isEmpty()) {
            sb.append(" (open for writing through the mount: close them first)");
        }
        sb.append("; nothing more was changed. Move your version of ").append(keys.size() == 1 ? "it" : "them")
                .append(" aside (or undo the change) and run `quiltfs pull ").append(p.name())
                .append("` again to finish it");
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
