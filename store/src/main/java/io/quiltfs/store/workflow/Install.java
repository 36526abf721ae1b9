package io.quiltfs.store.workflow;

import io.quiltfs.store.cache.Fetcher;
import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.HomeLock;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.state.PackageState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * {@code install}: registers a package revision in the lineage and materializes its working
 * folder, all of it or the keys matching some paths (partial install; another install with more
 * paths fetches more). Objects come through the object cache ({@link Fetcher}: fetched once,
 * verified against the row's hash); content already cached is never fetched again. An object
 * that is a local file (a local-folder registry's data) and not cached is copied straight into
 * its working file, verified on the way, and enters the cache as a hard link to that file
 * where possible (never a link to the working file: an edit must not reach the cache). The lineage
 * is written before the files, so a killed install is completed by running it again; files are
 * placed whole ({@link WorkingFiles#place}), and a file already present is never overwritten.
 */
public final class Install {
    private Install() {
    }

    /**
     * What an install did: the installed revision, where, how many files were placed now and
     * how many fetched; {@code keptRemoved} counts the files an earlier install placed that
     * the user removed since and this one left removed.
     */
    public record Result(String topHash, Path workDir, int placed, long placedBytes, int fetched, int matched,
                         PathFilter filter, int keptRemoved) {
        Result withKeptRemoved(int n) {
            return new Result(topHash, workDir, placed, placedBytes, fetched, matched, filter, n);
        }
    }

    /**
     * Installs {@code ref} from {@code registry} into {@code dest} (null: the home's default
     * working folder for the package), limited to {@code paths} (null or empty: everything).
     * {@code sources} resolves physical keys that the registry itself cannot read.
     */
    public static Result install(Home home, Registry registry, PackageRef ref, Path dest, List<String> paths,
                                 Function<PhysicalKey, ObjectSource> sources, Progress progress) throws IOException {
        var pkg = ref.name();
        home.ensure();
        try (HomeLock lock = HomeLock.acquire(home.packageLock(pkg))) {
            InstalledPackage existing = InstalledPackage.find(home, pkg);
            if (existing != null && existing.state().uninstalling) {
                throw Uninstall.unfinished(pkg);
            }
            if (existing != null && existing.state().pulling != null) {
                // Its working files are partly the pulled revision's: placing the head's would mix them.
                throw Pull.unfinished(pkg, existing.state().pulling, "install");
            }
            String top;
            Path work;
            PathFilter filter;
            if (existing != null) {
                PackageState s = existing.state();
                if (!io.quiltfs.store.registry.Registries.canonicalUri(s.registry).equals(registry.uri())) {
                    throw new ConflictException(pkg + " is installed from " + s.registry + ", not " + registry.uri()
                            + " (uninstall it first to install it from another registry)");
                }
                top = s.head;
                if (!ref.isLatest() && !registry.resolve(ref).equals(s.head)) {
                    throw new ConflictException(pkg + " is already installed at " + s.head + "; to move to "
                            + ref + ", run `quiltfs pull " + pkg + "` (latest) or uninstall and install again");
                }
                work = java.nio.file.Paths.get(s.workDir);
                // A mount's working area is not a working folder: it holds private copies and a
                // journal, not the package's files. Placing files there would bypass the journal
                // (and a key named like the journal would overwrite it).
                if (work.toAbsolutePath().normalize().equals(home.mountArea(pkg).toAbsolutePath().normalize())) {
                    throw new ConflictException(pkg + " is edited through a mount (its working area is " + work
                            + "), not installed in a folder: mount it to read or edit it (`quiltfs mount " + pkg
                            + " MOUNTPOINT`); to install it in a folder instead, commit and push, unmount it and"
                            + " `quiltfs uninstall " + pkg + "` first");
                }
                if (dest != null && !dest.toAbsolutePath().normalize().equals(work)) {
                    throw new ConflictException(pkg + " is already installed in " + work + ", not " + dest
                            + " (uninstall it first to move it)");
                }
                filter = paths == null || paths.isEmpty() ? PathFilter.ALL : existing.filter().union(paths);
            } else {
                top = registry.resolve(ref);
                work = (dest == null ? home.defaultWorkDir(pkg) : dest).toAbsolutePath().normalize();
                if (Files.exists(work) && (!Files.isDirectory(work) || hasEntries(work))) {
                    throw new ConflictException("cannot install " + pkg + " into " + work
                            + ": it is not an empty folder (choose another --dest, or move it aside)");
                }
                refuseNested(Lineage.read(home), pkg, work); // early, before any fetch; again below, under the lock
                filter = new PathFilter(paths);
            }
            Manifest m;
            try {
                m = InstalledPackage.manifest(home, pkg, registry.uri(), top, registry);
            } catch (io.quiltfs.store.registry.RegistryException.NotFound e) {
                if (existing != null || ref.hash() != null) {
                    throw e;
                }
                // The pointer exists but its manifest does not: say which pointer, and a way out.
                throw new io.quiltfs.store.registry.RegistryException.NotFound((ref.tag() != null
                        ? "tag '" + ref.tag() + "'" : "latest") + " of " + pkg + " in " + registry.uri()
                        + " names revision " + top + ", whose manifest is missing there (the registry is damaged);"
                        + " see its revisions with `quiltfs browse " + registry.uri() + " " + pkg
                        + "` and install one as " + pkg + "@HASH");
            }
            // A re-run of a finished install keeps what the user removed since (a removal is a
            // change `status` shows and `commit` records): it places only keys that no earlier
            // install placed (newly matched paths) and the keys this command's --path names. A
            // working folder that is gone is put back whole (what `status` tells the user to do).
            PathFilter placedBefore = existing == null || !Files.isDirectory(work) ? null : placedByLastFinished(existing);
            PathFilter named = paths == null || paths.isEmpty() ? null : new PathFilter(paths);
            List<Entry> wanted = new ArrayList<>();
            List<Entry> placedEarlier = new ArrayList<>();
            int matched = 0;
            for (Entry e : m.entries()) {
                String k = e.logicalKey();
                if (filter.matches(k)) {
                    matched++;
                    if (placedBefore != null && placedBefore.matches(k) && (named == null || !named.matches(k))) {
                        placedEarlier.add(e);
                    } else {
                        wanted.add(e);
                    }
                }
            }
            if (paths != null && !paths.isEmpty()) {
                for (String g : paths) {
                    PathFilter one = new PathFilter(List.of(g));
                    if (m.entries().stream().noneMatch(e -> one.matches(e.logicalKey()))) {
                        throw new io.quiltfs.store.registry.RegistryException.NotFound("no logical key of " + pkg
                                + "@" + top.substring(0, 10) + " matches '" + g + "' (its top level holds "
                                + topLevel(m) + "; or install without --path)");
                    }
                }
            }
            String latest = registry.latest(pkg);
            Path firstMade = firstMissing(work);
            Files.createDirectories(work);
            try {
                register(home, pkg, registry.uri(), top, work, latest, filter, named,
                        existing == null ? Uninstall.mountOf(work) : null);
            } catch (IOException | RuntimeException e) {
                // Nothing was registered or written: take back the folders this made (a --dest
                // a/b/c may have made a and b too), each only while it is still empty.
                removeEmpty(work, firstMade);
                throw e;
            }
            Checkpoints.reach("install.after-lineage");
            InstalledPackage p = InstalledPackage.require(home, pkg);
            if (existing != null && existing.state().installing) {
                sweepTemporaries(p.files());
            }
            Result r;
            try {
                r = materialize(p, m, wanted, sources, progress, top, matched);
            } catch (IOException | RuntimeException e) {
                throw new Incomplete(pkg, finishCommand(p), e);
            }
            int keptRemoved = 0;
            for (Entry e : placedEarlier) {
                if (p.files().stat(e.logicalKey()) == null) {
                    keptRemoved++;
                }
            }
            r = r.withKeptRemoved(keptRemoved);
            Lineage.update(home, l -> {
                PackageState s = l.get(pkg);
                if (s != null) {
                    s.installing = false;
                    s.placedAll = false;
                    s.placedPaths = null;
                    s.installingPaths = null;
                    l.put(pkg, s);
                }
                return null;
            });
            return r;
        }
    }

    /**
     * An install that stopped before every wanted file was in place: the package stays registered,
     * its missing files count as not installed yet (not as removed), and commit refuses until
     * {@code install} runs again and finishes. The cause keeps its own type for the exit code.
     */
    public static final class Incomplete extends IOException {
        private final Exception reason;
        private final String hint;

        Incomplete(io.quiltfs.store.registry.PackageName pkg, String finish, Exception reason) {
            this(reason, reason instanceof io.quiltfs.store.registry.RegistryException.NotFound
                    // Running it again would stop at the same missing object.
                    ? "the install of " + pkg + " is incomplete and the registry cannot complete it; `quiltfs"
                            + " uninstall " + pkg + "`, then install the keys you need with --path"
                    : reason instanceof java.nio.file.FileSystemException f && "File name too long".equals(f.getReason())
                    // Nor would it make the name fit.
                    ? "the install of " + pkg + " is incomplete and no file here can have that name; `quiltfs"
                            + " uninstall " + pkg + "`, then install the keys you need with --path"
                    : "the install of " + pkg + " is incomplete: run `" + finish
                            + "` again to finish it (or `quiltfs uninstall " + pkg + "`)");
        }

        private Incomplete(Exception reason, String hint) {
            super(firstLine(reason) + "; " + hint, reason);
            this.reason = reason;
            this.hint = hint;
        }

        /** What stopped the install. */
        public Exception reason() {
            return reason;
        }

        /** What to do about it. */
        public String hint() {
            return hint;
        }

        private static String firstLine(Exception e) {
            String m = e.getMessage();
            return m == null || m.isBlank() ? e.getClass().getSimpleName() : m.replace('\n', ' ');
        }
    }

    /** The error commit and friends give while an install has not finished. */
    static ConflictException unfinished(InstalledPackage p, String verb) {
        return new ConflictException("the install of " + p.name() + " did not finish, so its missing files are not"
                + " known to be removed: run `" + finishCommand(p) + "` to finish it, then " + verb + " again");
    }

    /**
     * The command that finishes {@code p}'s unfinished install, or puts back its working folder
     * when that is gone, without widening a partial install: {@code install} without --path
     * would install every key. An unfinished install is named as it was run (its --path, none
     * when it was given none); a gone folder is put back with every glob of the package. For an
     * install interrupted before its globs were recorded (an older quiltfs), the globs that no
     * finished install placed yet are named, or all of them when there are none such: naming the
     * placed ones puts back the files removed since, but never every key.
     */
    public static String finishCommand(InstalledPackage p) {
        PackageState s = p.state();
        StringBuilder b = new StringBuilder("quiltfs install ").append(p.name());
        if (s.paths == null) {
            return b.toString();
        }
        boolean gone = p.files() instanceof WorkFolder w && !Files.isDirectory(w.root());
        List<String> named;
        if (gone || !s.installing) {
            named = s.paths;
        } else if (s.installingPaths != null) {
            named = s.installingPaths;
        } else {
            List<String> placed = !s.placedAll && s.placedPaths != null ? s.placedPaths : List.of();
            named = s.paths.stream().filter(g -> !placed.contains(g)).toList();
            if (named.isEmpty()) {
                named = s.paths;
            }
        }
        return b.append(pathOptions(named)).toString();
    }

    /** " --path G" for each glob, each a shell word that gives it back ({@link #shellWord}). */
    public static String pathOptions(List<String> globs) {
        StringBuilder b = new StringBuilder();
        for (String g : globs) {
            // "./" is dropped on read; without it a glob starting with '-' would be taken for an option.
            b.append(" --path ").append(shellWord(g.startsWith("-") ? "./" + g : g));
        }
        return b.toString();
    }

    /**
     * {@code w} as one word for a POSIX shell: as it is when it is plain (and does not start with
     * '=', which zsh expands as a command's path), else in single quotes, or as {@code $'...'}
     * (bash, zsh, ksh) when it holds control characters (a newline in a key; C1 controls and the
     * line and paragraph separators U+2028/U+2029, which a terminal may take as a line break
     * or a command), which single quotes would keep but a message line could not show.
     */
    public static String shellWord(String w) {
        if (!w.isEmpty() && w.matches("[A-Za-z0-9_./@%+=:,-]+") && !w.startsWith("=")) {
            return w;
        }
        if (w.chars().noneMatch(Install::control)) {
            return "'" + w.replace("'", "'\\''") + "'";
        }
        StringBuilder b = new StringBuilder("$'");
        for (int i = 0; i < w.length(); i++) {
            char c = w.charAt(i);
            switch (c) {
                case '\\' -> b.append("\\\\");
                case '\'' -> b.append("\\'");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        b.append(String.format("\\x%02x", (int) c));
                    } else if (control(c)) {
                        b.append(String.format("\\u%04x", (int) c)); // the character, not a byte
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('\'').toString();
    }

    /** C0 and C1 controls, DEL, and the line and paragraph separators. */
    private static boolean control(int c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029;
    }

    /**
     * The keys the last finished install of {@code p} placed (those missing now were removed by
     * the user), or null when none finished: every key is to be placed.
     */
    private static PathFilter placedByLastFinished(InstalledPackage p) {
        PackageState s = p.state();
        if (!s.installing) {
            return p.filter();
        }
        return s.placedAll ? PathFilter.ALL : s.placedPaths == null ? null : new PathFilter(s.placedPaths);
    }

    /** Registers the package (or its wider paths) as being installed, under the lineage lock. */
    private static void register(Home home, io.quiltfs.store.registry.PackageName pkg, String registryUri, String top,
            Path workDir, String latest, PathFilter filter, PathFilter named, String mount) throws IOException {
        Lineage.update(home, l -> {
            PackageState s = l.get(pkg);
            if (s == null) {
                refuseNested(l, pkg, workDir); // another install may have registered a folder meanwhile
                s = new PackageState();
                s.registry = registryUri;
                s.base = top;
                s.head = top;
                s.workDir = workDir.toString();
                s.workDirMount = mount;
            } else if (!s.installing) {
                // What the finished install placed, for a re-run after this one is interrupted.
                s.placedAll = s.paths == null;
                s.placedPaths = s.paths == null ? null : new ArrayList<>(s.paths);
            }
            s.latestSeen = latest;
            s.paths = filter.globs();
            s.installingPaths = named == null ? null : new ArrayList<>(named.globs());
            s.installing = true;
            l.put(pkg, s);
            return null;
        });
    }

    /**
     * Refuses a working folder inside another installed package's, or around one: each package's
     * status and commit would take the other's files for its own additions, and an uninstall of
     * the outer one would delete the inner one's work.
     */
    private static void refuseNested(Lineage lineage, io.quiltfs.store.registry.PackageName pkg, Path work)
            throws IOException {
        Path real = realPath(work);
        for (var e : lineage.all().entrySet()) {
            if (e.getValue().workDir == null || e.getKey().equals(pkg.toString())) {
                continue;
            }
            Path other = java.nio.file.Paths.get(e.getValue().workDir).toAbsolutePath().normalize();
            Path otherReal = realPath(other);
            if (real.startsWith(otherReal) || otherReal.startsWith(real)) {
                throw new ConflictException("cannot install " + pkg + " into " + work + ": "
                        + (real.startsWith(otherReal) ? "it is inside" : "it holds") + " the working folder of "
                        + e.getKey() + " (" + other + "); choose another --dest");
            }
        }
    }

    /**
     * {@code p} with the symbolic links of its existing part resolved (the rest as written): two
     * spellings of one folder, through a link, compare equal.
     */
    private static Path realPath(Path p) {
        Path existing = p;
        Path rest = p.getFileSystem().getPath("");
        while (existing != null && !Files.exists(existing)) {
            rest = existing.getFileName().resolve(rest);
            existing = existing.getParent();
        }
        if (existing == null) {
            return p;
        }
        try {
            return existing.toRealPath().resolve(rest).normalize();
        } catch (IOException e) {
            return p;
        }
    }

    /**
     * Removes the temporary files (partial copies, possibly large) that a killed install left in
     * the working folder: a scan deletes those of processes that no longer run. Best effort: a
     * file the scan refuses (a symbolic link, say) is for status and commit to report.
     */
    private static void sweepTemporaries(WorkingFiles files) {
        try {
            files.scan((key, stat) -> true);
        } catch (IOException | java.io.UncheckedIOException e) {
            // left for the next scan
        }
    }

    /** The outermost folder of {@code dir} (itself included) that does not exist yet, or null. */
    private static Path firstMissing(Path dir) {
        Path first = null;
        for (Path d = dir.toAbsolutePath(); d != null && !Files.exists(d, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                d = d.getParent()) {
            first = d;
        }
        return first;
    }

    /** Removes {@code dir} and its parents up to {@code top} while they are empty folders. */
    private static void removeEmpty(Path dir, Path top) {
        if (top == null) {
            return;
        }
        for (Path d = dir.toAbsolutePath(); d != null && d.startsWith(top); d = d.getParent()) {
            try {
                Files.deleteIfExists(d);
            } catch (IOException notEmptyOrGone) {
                return; // something else wrote there meanwhile: it stays, and so do its parents
            }
        }
    }

    /** The first few names at the top of {@code m} (folders with a '/'), for a --path that matched nothing. */
    private static String topLevel(Manifest m) {
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        for (Entry e : m.entries()) {
            String k = e.logicalKey();
            int slash = k.indexOf('/');
            names.add(slash < 0 ? k : k.substring(0, slash + 1));
            if (names.size() > 8) {
                break;
            }
        }
        if (names.isEmpty()) {
            return "nothing";
        }
        List<String> shown = new ArrayList<>(names).subList(0, Math.min(8, names.size()));
        return String.join(", ", shown) + (names.size() > 8 ? ", ..." : "");
    }

    private static boolean hasEntries(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.findAny().isPresent();
        }
    }

    /** Places every wanted row that has no working file yet, fetching in parallel. */
    private static Result materialize(InstalledPackage p, Manifest m, List<Entry> wanted,
                                      Function<PhysicalKey, ObjectSource> sources, Progress progress,
                                      String top, int matched) throws IOException {
        WorkingFiles files = p.files();
        ObjectCache cache = new ObjectCache(p.home());
        cache.sweepAbandoned(); // what an install or commit killed half-way left
        HashCache hashCache = p.hashCache();
        List<Entry> todo = new ArrayList<>();
        long bytes = 0;
        for (Entry e : wanted) {
            if (files.stat(e.logicalKey()) == null) {
                todo.add(e);
                bytes += e.size();
            }
        }
        Placer placer = new Placer(new Fetcher(cache, sources), files, hashCache, progress);
        progress.begin("installing", todo.size(), bytes);
        try {
            placer.placeAll(todo);
        } finally {
            progress.end();
            hashCache.save();
        }
        return new Result(top, ((WorkFolder) files).root(), todo.size(), bytes, placer.fetched(), matched,
                p.filter(), 0);
    }

    /** Fetches rows into the cache and copies them into the working files, on a bounded pool. */
    static final class Placer {
        private static final int THREADS = Integer.getInteger("quiltfs.install.threads", Math.max(8, 4 * Runtime.getRuntime().availableProcessors()));

        private final Fetcher fetcher;
        private final WorkingFiles files;
        private final HashCache hashCache;
        private final Progress progress;

        /** The {@link Checkpoints} point reached after each file placed (null: none). */
        private final String checkpoint;
        /** Which key each failure of {@link #place} was about, for the caller's message. */
        private final Map<Throwable, String> failed = java.util.Collections.synchronizedMap(new IdentityHashMap<>());

        Placer(Fetcher fetcher, WorkingFiles files, HashCache hashCache, Progress progress) {
            this(fetcher, files, hashCache, progress, null);
        }

        Placer(Fetcher fetcher, WorkingFiles files, HashCache hashCache, Progress progress, String checkpoint) {
            this.fetcher = fetcher;
            this.files = files;
            this.hashCache = hashCache;
            this.progress = progress;
            this.checkpoint = checkpoint;
        }

        /** The key whose placing failed with {@code t} (or with a cause of it), else null. */
        String keyOf(Throwable t) {
            for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
                String k = failed.get(c);
                if (k != null) {
                    return k;
                }
            }
            return null;
        }

        private final java.util.concurrent.atomic.AtomicLong copied = new java.util.concurrent.atomic.AtomicLong();

        /** Objects that were not in the cache: downloaded, or copied from a local file. */
        int fetched() {
            return (int) (fetcher.downloads() + copied.get());
        }

        /**
         * Makes sure that every row's object can be had before any working file changes (a pull
         * must not stop half-way because the registry lost an object): the objects of a local
         * registry's files are looked at (they are copied straight into their working files
         * later), the others are fetched into the cache now, where placing them finds them.
         */
        void prefetchAll(List<Entry> rows) throws IOException {
            List<Entry> remote = new ArrayList<>();
            for (Entry e : rows) {
                PhysicalKey local = localSource(e);
                if (local == null) {
                    remote.add(e);
                } else if (!Files.isRegularFile(local.filePath())) {
                    throw new io.quiltfs.store.registry.RegistryException.NotFound("cannot fetch '" + e.logicalKey()
                            + "': object " + local + " for '" + e.logicalKey() + "' does not exist");
                }
            }
            if (remote.isEmpty()) {
                return;
            }
            progress.begin("fetching", remote.size(), remote.stream().mapToLong(Entry::size).sum());
            try {
                inParallel(remote, e -> {
                    fetcher.fetch(e);
                    progress.advance(1, e.size());
                    return null;
                }, List.of());
            } finally {
                progress.end();
            }
        }

        void placeAll(List<Entry> rows) throws IOException {
            if (rows.isEmpty()) {
                return;
            }
            List<Entry> local = new ArrayList<>();
            List<Entry> remote = new ArrayList<>();
            for (Entry e : rows) {
                (localSource(e) != null ? local : remote).add(e);
            }
            inParallel(remote, this::place, local);
        }

        /** How far {@link #placeInOrder} may go; asked on the calling thread. */
        interface Reservation {
            /**
             * Called before the row at {@code next} starts when it lies past the last index allowed
             * so far; {@code finished}: how many rows from the first are placed; {@code unfinished}:
             * which rows are not placed (read it during the call, do not keep it). Returns the last
             * index that may start (at least {@code next}); whatever must be durable before those
             * rows start is written before it returns.
             */
            int reserve(int next, int finished, Unfinished unfinished) throws IOException;

            /**
             * Called once when the placing stopped (a row failed, or the caller was interrupted),
             * after every row started has ended: {@code finished} as above, {@code end}: one past the
             * last row placed (every row from it on is not placed). Best effort: its failure is
             * added to the stop's, never thrown instead of it.
             */
            default void stopped(int finished, int end, Unfinished unfinished) throws IOException {
            }
        }

        /** Which rows of a {@link #placeInOrder} are not placed (yet). */
        interface Unfinished {
            /** The first index from {@code from} on whose row is not placed (the rows' count: none). */
            int from(int from);
        }

        /** Tests: at most this many rows placed at once, in all, by {@link #placeInOrder} (0: the pools' sizes). */
        static volatile int inFlight = 0;

        /** What a row that was not placed because the placing had stopped reports as its end. */
        private static final Object SKIPPED = new Object();

        /**
         * Places {@code rows}, started in their order, on one continuous pool: rows fetched on the
         * fetch pool, rows copied from a local registry on the hashing pool, each kept full: a row
         * waits for a free thread, never for a slower row started before it. A row starts only
         * once {@code reservation} allowed its index. The first failure (or an interrupt of the
         * calling thread) stops the rows not started yet, queued ones included, and every row
         * started is waited for before {@link Reservation#stopped} and the throw (no placement
         * lands after the caller reports the stop).
         */
        void placeInOrder(List<Entry> rows, Reservation reservation) throws IOException {
            int size = rows.size();
            if (size == 0) {
                return;
            }
            boolean[] local = new boolean[size];
            for (int i = 0; i < size; i++) {
                local[i] = localSource(rows.get(i)) != null;
            }
            // nextOf[k][i]: the first index from i whose row is local (k = 1) or not (k = 0).
            int[][] nextOf = new int[2][size + 1];
            nextOf[0][size] = size;
            nextOf[1][size] = size;
            for (int i = size - 1; i >= 0; i--) {
                nextOf[0][i] = local[i] ? nextOf[0][i + 1] : i;
                nextOf[1][i] = local[i] ? i : nextOf[1][i + 1];
            }
            int cap = inFlight;
            // A few rows queued per thread: a thread that finishes a small file takes the next at
            // once instead of waiting for this thread to hear of it and start another.
            int remoteLimit = cap > 0 ? cap : 2 * THREADS;
            int localLimit = cap > 0 ? cap : 4 * Math.max(1, FileHasher.parallelism());
            int totalLimit = cap > 0 ? cap : Integer.MAX_VALUE;
            java.util.concurrent.BlockingQueue<Object[]> ended = new java.util.concurrent.LinkedBlockingQueue<>();
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            ExecutorService pool = null;
            boolean[] done = new boolean[size];
            // The rows started and not placed (running, failed or skipped): with the rows not
            // started, the rows not placed, found without a scan of the placed ones.
            java.util.TreeSet<Integer> started = new java.util.TreeSet<>();
            int[] cursor = {0, nextOf[0][0], nextOf[1][0]}; // finished, next remote, next local
            Unfinished unfinished = from -> {
                int f = Math.max(from, cursor[0]);
                if (f >= size) {
                    return size;
                }
                Integer s = started.ceiling(f);
                int out = Math.min(s == null ? size : s, nextOf[0][Math.max(f, cursor[1])]);
                return Math.min(out, nextOf[1][Math.max(f, cursor[2])]);
            };
            int finished = 0;
            int end = 0;
            int allowed = -1;
            int inRemote = 0;
            int inLocal = 0;
            IOException first = null;
            boolean interrupted = false;
            Exception unreserved = null; // the reservation's own failure: thrown as it is
            try {
                while (true) {
                    while (first == null) {
                        int i = -1;
                        if (cursor[1] < size && inRemote < remoteLimit) {
                            i = cursor[1];
                        }
                        if (cursor[2] < size && inLocal < localLimit && (i < 0 || cursor[2] < i)) {
                            i = cursor[2];
                        }
                        if (i < 0 || inRemote + inLocal >= totalLimit) {
                            break;
                        }
                        if (i > allowed) {
                            try {
                                allowed = reservation.reserve(i, finished, unfinished);
                            } catch (IOException | RuntimeException e) {
                                unreserved = e;
                                first = new IOException(e);
                                stop.set(true);
                                break;
                            }
                        }
                        Entry e = rows.get(i);
                        int index = i;
                        Runnable task = () -> {
                            Object failure = null;
                            try {
                                if (stop.get()) {
                                    failure = SKIPPED; // queued when another row failed: not begun
                                } else {
                                    place(e);
                                }
                            } catch (Throwable t) {
                                failure = t;
                                stop.set(true); // at once: the rows queued behind it are not begun
                            }
                            ended.add(new Object[] {index, failure});
                        };
                        started.add(i);
                        if (local[i]) {
                            FileHasher.execute(task);
                            inLocal++;
                            cursor[2] = nextOf[1][i + 1];
                        } else {
                            if (pool == null) {
                                pool = Executors.newFixedThreadPool(Math.min(THREADS, remoteLimit), r -> {
                                    Thread t = new Thread(r, "quiltfs-install");
                                    t.setDaemon(true);
                                    return t;
                                });
                            }
                            pool.execute(task);
                            inRemote++;
                            cursor[1] = nextOf[0][i + 1];
                        }
                    }
                    if (inRemote + inLocal == 0) {
                        break;
                    }
                    Object[] ending;
                    try {
                        ending = interrupted ? takeUninterruptibly(ended) : ended.take();
                    } catch (InterruptedException ie) {
                        // Stop, but wait for the rows started: none may land after the caller hears.
                        interrupted = true;
                        stop.set(true);
                        if (first == null) {
                            first = new IOException("interrupted", ie);
                        }
                        continue;
                    }
                    int i = (Integer) ending[0];
                    if (local[i]) {
                        inLocal--;
                    } else {
                        inRemote--;
                    }
                    if (ending[1] == SKIPPED) {
                        continue;
                    }
                    if (ending[1] != null) {
                        stop.set(true);
                        if (first == null) {
                            Throwable c = (Throwable) ending[1];
                            if (c instanceof java.io.UncheckedIOException u) {
                                c = u.getCause();
                            }
                            first = c instanceof IOException io ? io : new IOException(c);
                        }
                    } else {
                        done[i] = true;
                        started.remove(i);
                        end = Math.max(end, i + 1);
                        while (finished < size && done[finished]) {
                            finished++;
                        }
                        cursor[0] = finished;
                    }
                }
            } finally {
                if (pool != null) {
                    pool.shutdown();
                }
            }
            if (unreserved != null && interrupted) {
                Thread.currentThread().interrupt();
            }
            if (unreserved instanceof IOException io) {
                throw io;
            }
            if (unreserved != null) {
                throw (RuntimeException) unreserved;
            }
            if (first != null) {
                try {
                    reservation.stopped(finished, end, unfinished);
                } catch (IOException | RuntimeException e) {
                    first.addSuppressed(e);
                } finally {
                    if (interrupted) {
                        Thread.currentThread().interrupt(); // after the record: a file channel would refuse it
                    }
                }
                throw first;
            }
        }

        /** The next end reported, waiting through interrupts (the caller's flag is restored later). */
        private static Object[] takeUninterruptibly(java.util.concurrent.BlockingQueue<Object[]> ended) {
            while (true) {
                try {
                    return ended.take();
                } catch (InterruptedException again) {
                    // still waiting for the rows started
                }
            }
        }

        /** What one row gets. */
        private interface RowAction {
            Object apply(Entry e) throws IOException;
        }

        /**
         * {@code action} on each of {@code remote} on a pool of fetch threads while {@link #place}
         * runs on each of {@code local} on the hashing pool; the first failure stops the rest.
         */
        private void inParallel(List<Entry> remote, RowAction action, List<Entry> local) throws IOException {
            ExecutorService pool = remote.isEmpty() ? null : Executors.newFixedThreadPool(
                    Math.min(THREADS, remote.size()), r -> {
                        Thread t = new Thread(r, "quiltfs-install");
                        t.setDaemon(true);
                        return t;
                    });
            try {
                List<Future<?>> fs = new ArrayList<>(remote.size());
                for (Entry e : remote) {
                    fs.add(pool.submit(() -> {
                        action.apply(e);
                        return null;
                    }));
                }
                IOException first = null;
                try {
                    placeLocal(local);
                } catch (IOException e) {
                    first = e;
                    fs.forEach(g -> g.cancel(false));
                }
                for (Future<?> f : fs) {
                    try {
                        f.get();
                    } catch (ExecutionException ee) {
                        if (first == null) {
                            Throwable c = ee.getCause();
                            if (c instanceof java.io.UncheckedIOException u) {
                                c = u.getCause();
                            }
                            first = c instanceof IOException io ? io : new IOException(c);
                            for (Future<?> g : fs) {
                                g.cancel(false);
                            }
                        }
                    } catch (java.util.concurrent.CancellationException ce) {
                        // cancelled after the first failure
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted", ie);
                    }
                }
                if (first != null) {
                    throw first;
                }
            } finally {
                if (pool != null) {
                    pool.shutdownNow();
                    // A cancelled future's get() does not wait for its task: one still placing a file
                    // would write into the working folder after the failure is reported.
                    try {
                        pool.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException ie) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }

        /**
         * Rows whose object is a local file (a local-folder registry's data) and not cached are
         * copied straight into their working files, hashed on the way and placed only if they
         * match: the source is local storage already, and a copy into the object cache first
         * would write every byte (and create every file) twice. The work is CPU and file-system
         * bound, so it runs on the hashing pool (a thread per core) rather than the fetch pool.
         */
        private void placeLocal(List<Entry> rows) throws IOException {
            FileHasher.forEach(rows, this::place);
        }

        /** The local file holding {@code e}'s object when it should be copied directly, else null. */
        private PhysicalKey localSource(Entry e) {
            if (!e.hash().isWellFormed() || fetcher.cache().exists(e.hash())) {
                return null;
            }
            try {
                PhysicalKey pk = PhysicalKey.parse(e.physicalKey());
                return pk.isFile() ? pk : null;
            } catch (IllegalArgumentException ex) {
                return null; // the fetcher reports it
            }
        }

        Object place(Entry e) throws IOException {
            try {
                placeOne(e);
            } catch (IOException | RuntimeException failure) {
                failed.put(failure, e.logicalKey());
                throw failure;
            }
            if (checkpoint != null) {
                Checkpoints.reach(checkpoint);
            }
            return null;
        }

        private void placeOne(Entry e) throws IOException {
            WorkingFiles.FileStat st = null;
            PhysicalKey local = localSource(e);
            java.nio.file.attribute.BasicFileAttributes before = null;
            if (local != null) {
                try {
                    before = Files.readAttributes(local.filePath(), java.nio.file.attribute.BasicFileAttributes.class);
                } catch (java.nio.file.NoSuchFileException absent) {
                    // placeChecked says so, naming the key
                }
                if (before != null && !before.isRegularFile()) {
                    local = null; // a folder, pipe or device: the fetcher refuses it, naming it
                }
            }
            if (local != null) {
                Path src = local.filePath();
                st = files.placeChecked(e.logicalKey(), src, e.hash(), e.size(),
                        "object " + local + " for '" + e.logicalKey() + "'");
                if (st != null) {
                    copied.incrementAndGet();
                    if (before != null && !fetcher.cache().linkVerified(e.hash(), src, before)) {
                        // The cache gets the registry's (immutable) file as a link: no second copy.
                        // Where no link can be made (the registry is on another file system), a
                        // verified copy, so that the content is not read from the registry again.
                        try {
                            fetcher.cache().putFile(e.hash(), src);
                        } catch (io.quiltfs.store.cache.ChecksumMismatchException changed) {
                            // rewritten since it was copied into the working file: not cached
                        }
                    }
                }
            }
            if (st == null) {
                st = files.place(e.logicalKey(), fetcher.fetch(e));
            }
            hashCache.put(e.logicalKey(), st, e.hash());
            progress.advance(1, e.size());
        }
    }
}
