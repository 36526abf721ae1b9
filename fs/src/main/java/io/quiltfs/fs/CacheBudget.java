package io.quiltfs.fs;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.HomeLock;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.workflow.LocalCommits;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The size limit of the object cache: every cached object by name and size in a Caffeine cache
 * weighed by bytes, which evicts the coldest objects (least recently and least frequently used,
 * Caffeine's W-TinyLFU) once the total passes the limit.
 *
 * <p>Never deleted: an object pinned by an open file (if Caffeine picks it, it is only
 * forgotten, and recorded again when the last file using it closes), and an object that a local
 * commit not yet pushed points to ({@link LocalCommits}: the cache may hold the only copy of that
 * content; the question and the deletion happen under the lineage lock, so no commit records the
 * object in between; when that lock is busy the object stays too). Such an object is forgotten
 * and taken on again at the next look at the cache, to be weighed again.
 *
 * <p>The limit holds for the whole cache, which every mount and command of the home share. A
 * mount manages what it fetches and uses, and takes on the objects it finds in the cache once
 * they are ten minutes old (at start as at every later look): a younger one is another process's
 * fresh object, perhaps open there, so it is only counted. When it lists the cache again (at most
 * every 30 s, when it adds or uses an object) its own share shrinks by the bytes of objects it
 * does not manage, and it forgets objects another process deleted. So each mount trims its own
 * objects, never the fresh ones of another, and the total stays within the smallest limit among
 * them (once the fresh objects of others are ten minutes old, if they alone pass it).
 *
 * <p>Threading: the threads serving the file system only record: a pin or unpin (an atomic update
 * of the pin map) and a use (a line in a queue), then signal the trimmer, a single background
 * thread ({@code quiltfs-cache-trim}) that takes every use recorded so far into the LRU, lists
 * the cache now and then (the first time too, while {@link #open} waits), and deletes what the
 * limit leaves out. Signals arriving while it runs coalesce into one more run, so the limit
 * holds again right after every burst of uses. No open or close waits for a deletion: the
 * trimmer takes an object out of the cache by renaming it (and its stamp) into the cache's
 * {@code tmp/} within the pin map's update of its name, and unlinks it after; an open or close
 * of a name sharing that update's bin of the map waits for the renames at most, and an open of
 * the very object being taken out then finds it gone and fetches it. {@link #close} stops the
 * trimmer.
 *
 * <p>Pins are per process: an object another mount has open is safe from this one only while it
 * is younger than ten minutes and this one has not used it. Deleting an object another process
 * is reading is harmless all the same (its descriptors keep the inode); that process fetches it
 * again at its next open.
 */
public final class CacheBudget {
    private static final Logger log = LoggerFactory.getLogger(CacheBudget.class);
    /** How often the cache is listed again for what other processes added and deleted. */
    static final long RESCAN_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(30);

    private final Home home;
    private final long limit;
    private final Cache<String, Long> lru;
    /**
     * Object name to the number of open files using it (at least 1; absent when none). Changed
     * only by atomic updates of the map, so a close that brings the count to zero cannot drop a
     * pin made at the same moment.
     */
    private final ConcurrentHashMap<String, Integer> pins = new ConcurrentHashMap<>();
    private final LocalCommits unpushed;
    /** When the cache was last listed; read and written by the trimmer only. */
    private long lastScan = System.nanoTime();
    /** Uses recorded by the threads serving the file system, for the trimmer to take into the LRU. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Use> uses =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** Whether a run of the trimmer is queued and has not started taking the uses yet (coalescing). */
    private final java.util.concurrent.atomic.AtomicBoolean signalled = new java.util.concurrent.atomic.AtomicBoolean();
    /**
     * The trimmer: one thread, started on demand and ended after a minute idle, so that every
     * change of the LRU (and so every deletion) happens on it, one run at a time.
     */
    private final java.util.concurrent.ThreadPoolExecutor trimmer;

    /** A use of an object; {@code released} when a file closed (recorded only if still cached). */
    private record Use(String name, long size, boolean released) { }
    /** Bytes of the objects in the cache that this process does not manage, at the last look. */
    private volatile long others;
    /**
     * Objects Caffeine picked that had to stay (the lineage was being changed, or a local commit
     * not yet pushed uses them): taken on again at the next look, to be weighed again.
     */
    private final java.util.Set<String> kept = ConcurrentHashMap.newKeySet();
    /** An object nobody here manages is taken on once it is this old: its process let it be. */
    static final long ADOPT_AFTER_MILLIS = java.util.concurrent.TimeUnit.MINUTES.toMillis(10);

    /** Caffeine weighs in ints, so weights are KiB: objects up to 2 TiB fit. */
    private CacheBudget(Home home, long limitBytes) {
        this.home = home;
        this.limit = limitBytes;
        this.unpushed = new LocalCommits(home);
        this.trimmer = new java.util.concurrent.ThreadPoolExecutor(1, 1, 60, java.util.concurrent.TimeUnit.SECONDS,
                new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "quiltfs-cache-trim");
                    t.setDaemon(true);
                    return t;
                });
        this.trimmer.allowCoreThreadTimeOut(true);
        this.lru = Caffeine.newBuilder()
                .maximumWeight(kib(limitBytes))
                .weigher((String k, Long size) -> (int) Math.min(Integer.MAX_VALUE, Math.max(1, kib(size))))
                .executor(Runnable::run)
                .removalListener((String name, Long size, RemovalCause cause) -> {
                    if (cause.wasEvicted()) {
                        evicted(name, size == null ? 0 : size);
                    }
                })
                .build();
    }

    private static long kib(long bytes) {
        return Math.max(1, (bytes + 1023) / 1024);
    }

    /** The budget of a home's object cache, taking on the objects already there but fresh ones. */
    public static CacheBudget open(Home home, long limitBytes) throws IOException {
        CacheBudget b = new CacheBudget(home, limitBytes);
        // On the trimmer too (waited for): every deletion happens there.
        try {
            b.trimmer.submit(() -> {
                b.scan();
                return null;
            }).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while listing " + home.objects());
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
        return b;
    }

    public long limitBytes() {
        return limit;
    }

    /**
     * Lists the cache. Objects this process does not manage are taken on when they are at least
     * {@link #ADOPT_AFTER_MILLIS} old (or were kept back by this process), oldest access first so
     * that the LRU order is sensible; younger ones are only counted (its share of the limit
     * shrinks by their bytes). Objects it manages that are gone (deleted by another process) are
     * forgotten.
     */
    private void scan() throws IOException {
        Path dir = home.objects();
        if (!Files.isDirectory(dir)) {
            return;
        }
        record Found(String name, long size, long atime) { }
        List<Found> found = new ArrayList<>();
        java.util.Set<String> present = new java.util.HashSet<>();
        long foreign = 0;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                present.add(name);
                if (tracks(name)) {
                    continue;
                }
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                    if (!a.isRegularFile()) {
                        continue;
                    }
                    if (kept.remove(name)
                            || System.currentTimeMillis() - a.lastModifiedTime().toMillis() > ADOPT_AFTER_MILLIS) {
                        found.add(new Found(name, a.size(), a.lastAccessTime().toMillis()));
                    } else {
                        foreign += a.size();
                    }
                } catch (java.nio.file.NoSuchFileException gone) {
                    // deleted by another process meanwhile
                }
            }
        }
        found.sort(Comparator.comparingLong(Found::atime));
        for (Found f : found) {
            lru.put(f.name(), f.size());
        }
        for (String name : new ArrayList<>(lru.asMap().keySet())) {
            if (!present.contains(name) && !pinned(name) && !Files.exists(dir.resolve(name))) {
                lru.asMap().remove(name); // not an eviction: nothing to delete
            }
        }
        others = foreign;
        long share = Math.max(1, kib(limit) - (foreign + 1023) / 1024);
        lru.policy().eviction().ifPresent(e -> e.setMaximum(share));
        lru.cleanUp();
    }

    /** One run of the trimmer: takes the uses recorded so far, lists the cache when due, trims. */
    private void trim() {
        signalled.set(false); // a use recorded from now on signals another run
        try {
            for (Use u = uses.poll(); u != null; u = uses.poll()) {
                long size = u.size();
                if (!u.released() || Files.isRegularFile(home.objects().resolve(u.name()))) {
                    lru.asMap().compute(u.name(), (k, v) -> size);
                }
            }
            if (System.nanoTime() - lastScan >= RESCAN_NANOS) {
                listAgain();
            }
            lru.cleanUp();
        } catch (RuntimeException e) {
            log.warn("cache limit: cannot trim {}: {}", home.objects(), e.getMessage());
        }
    }

    /** Asks the trimmer for a run, unless one is queued that has not taken the uses yet. */
    private void signal() {
        if (signalled.compareAndSet(false, true)) {
            try {
                trimmer.execute(this::trim);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                // unmounting: nothing is trimmed any more
            }
        }
    }

    /** One look at the whole cache (see {@link #scan}), on the trimmer; returns once done (tests). */
    void rescan() {
        onTrimmer(this::listAgain);
    }

    /** Returns once the trimmer has taken (and trimmed for) every use recorded before the call (tests). */
    void settle() {
        onTrimmer(this::trim);
    }

    private void onTrimmer(Runnable r) {
        try {
            trimmer.submit(r).get();
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // closed: nothing runs any more
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    private void listAgain() {
        lastScan = System.nanoTime();
        try {
            unpushed.uses(""); // reads new local commits here rather than under the lineage lock
            scan();
        } catch (IOException | RuntimeException e) {
            log.warn("cache limit: cannot list {}: {}", home.objects(), e.getMessage());
        }
    }

    /**
     * An object was used (or just entered the cache): it becomes the most recent, once the
     * trimmer takes the use, which then deletes what its weight pushed beyond the limit (or keeps
     * it, as the class says). Returns at once.
     */
    public void touch(String name, long size) {
        uses.add(new Use(name, size, false));
        signal();
    }

    /**
     * Stops the trimmer (unmounting): a run under way finishes (its deletion, if any), the uses
     * not taken yet are dropped (the next mount lists the cache). Waits a few seconds at most.
     */
    public void close() {
        trimmer.shutdown();
        try {
            if (!trimmer.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS)) {
                log.warn("cache limit: the trimmer of {} did not stop within 5 s", home.objects());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Whether the trimmer has stopped after {@link #close} (tests). */
    boolean closed() {
        return trimmer.isTerminated();
    }

    /** An open file uses the object: it must not be deleted until {@link #unpin}. */
    public void pin(String name) {
        pins.merge(name, 1, Integer::sum);
    }

    /** The open file is gone; records the object again (it may have been passed over meanwhile). */
    public void unpin(String name, long size) {
        pins.computeIfPresent(name, (k, n) -> n > 1 ? n - 1 : null);
        uses.add(new Use(name, size, true));
        signal();
    }

    boolean pinned(String name) {
        return pins.containsKey(name);
    }

    /** Total bytes of the objects this process manages (for tests and statfs). */
    public long usedBytes() {
        long t = 0;
        for (Long s : lru.asMap().values()) {
            t += s;
        }
        return t;
    }

    /** Bytes of the objects in the cache that this process does not manage, at the last look. */
    long othersBytes() {
        return others;
    }

    /** Whether this process manages {@code name} (asking does not count as a use). */
    public boolean tracks(String name) {
        return lru.policy().getIfPresentQuietly(name) != null;
    }

    /**
     * Run on the trimmer when an evicted object is to go, under the lineage lock and within the
     * pin map's update of its name, before it is set aside (tests; else null).
     */
    volatile java.util.function.Consumer<String> beforeSetAside;
    /**
     * Run on the trimmer just before an object set aside is unlinked, under the lineage lock but
     * outside the pin map (tests; else null).
     */
    volatile java.util.function.Consumer<String> beforeDelete;
    /** Numbers the names objects are set aside under, so two evictions of one name never collide. */
    private final java.util.concurrent.atomic.AtomicLong asides = new java.util.concurrent.atomic.AtomicLong();

    private void evicted(String name, long size) {
        if (pinned(name)) {
            log.debug("cache limit: keeping {} (in use by an open file)", name);
            return;
        }
        // Under the lineage lock: a commit records its objects under it, so none can start
        // using this one between the question and the deletion. Never waited for: a commit in
        // this process may hold it for long, and the trimmer has other objects to see to.
        try (HomeLock lock = HomeLock.tryAcquire(Lineage.lockFile(home))) {
            if (lock == null) {
                log.debug("cache limit: keeping {} (the lineage is being changed)", name);
                kept.add(name);
                return;
            }
            if (unpushed.uses(name)) {
                kept.add(name);
                IOException why = unpushed.failure();
                if (why != null) {
                    log.warn("cache limit: keeping {}: cannot tell whether a local commit uses it ({})", name,
                            why.getMessage());
                } else {
                    log.debug("cache limit: keeping {} (a local commit not yet pushed uses it)", name);
                }
                return;
            }
            if (deleteUnlessPinned(name)) {
                log.debug("cache limit: evicted {} ({} bytes)", name, size);
            } else {
                log.debug("cache limit: keeping {} (opened meanwhile)", name);
            }
        } catch (IOException | RuntimeException e) {
            log.warn("cache limit: cannot evict {}: {}", name, e.getMessage());
            kept.add(name);
        }
    }

    /**
     * Deletes the object unless a file pinned it since the question above. The decision and the
     * removal from the cache are one step of the pin map's update of that name, so a file opening
     * it meanwhile either pins it first (it stays) or finds it gone (and fetches it), never finds
     * it and loses it right after. That step only renames the object, then its stamp, into the
     * cache's {@code tmp/} (the same file system: a rename does not touch the data); the unlink,
     * which takes as long as freeing the file's blocks (tenths of a second for a large object,
     * longer on a network file system), happens after it. A {@link ConcurrentHashMap} update locks
     * a whole bin of the map, shared with other names: every open and close of those waits for
     * the step. If the process dies in between, the files set aside are named after it, and
     * {@link io.quiltfs.store.cache.ObjectCache#sweepAbandoned} deletes them.
     */
    private boolean deleteUnlessPinned(String name) throws IOException {
        Path[] aside = new Path[2];
        boolean[] removed = {false};
        try {
            pins.compute(name, (k, n) -> {
                if (n != null) {
                    return n;
                }
                java.util.function.Consumer<String> hook = beforeSetAside;
                if (hook != null) {
                    hook.accept(name);
                }
                try {
                    // The object first, then its stamp: a reader sees the object with its stamp,
                    // or no object.
                    long id = asides.incrementAndGet();
                    aside[0] = setAside(home.objects().resolve(name), "evicted-" + id);
                    aside[1] = setAside(home.stamps().resolve(name), "evicted-stamp-" + id);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                removed[0] = true;
                return null;
            });
        } catch (java.io.UncheckedIOException e) {
            if (aside[0] != null) {
                Files.deleteIfExists(aside[0]); // the stamp could not be moved: the object is out all the same
            }
            throw e.getCause();
        }
        if (!removed[0]) {
            return false;
        }
        java.util.function.Consumer<String> hook = beforeDelete;
        if (hook != null) {
            hook.accept(name);
        }
        for (Path p : aside) {
            if (p != null) {
                Files.deleteIfExists(p);
            }
        }
        return true;
    }

    /**
     * Moves {@code p} to a new name in the cache's {@code tmp/} and returns it; null when there
     * was no {@code p}. Where the move cannot be done as a rename, {@code p} is deleted in place.
     */
    private Path setAside(Path p, String what) throws IOException {
        Path to = home.tmp().resolve("p" + io.quiltfs.store.state.LocalProcess.PID + "-" + what + ".part");
        try {
            Files.move(p, to, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return to;
        } catch (java.nio.file.NoSuchFileException e) {
            if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                return null; // nothing to delete
            }
            Files.createDirectories(home.tmp()); // tmp/ deleted under this process
            Files.move(p, to, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return to;
        } catch (java.nio.file.AtomicMoveNotSupportedException e) {
            Files.deleteIfExists(p);
            return null;
        }
    }
}
