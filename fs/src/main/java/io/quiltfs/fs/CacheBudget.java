package io.quiltfs.fs;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.quiltfs.store.state.Home;
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
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The size limit of the object cache: every cached object by name and size in a Caffeine cache
 * weighed by bytes, which evicts the coldest objects (least recently and least frequently used,
 * Caffeine's W-TinyLFU) once the total passes the limit. An object pinned by an open file is never deleted: if Caffeine picks it, it is
 * only forgotten, and recorded again when the last file using it closes. Nor is an object that a
 * local commit not yet pushed points to ({@link LocalCommits}): the cache may hold the only copy
 * of that content. It is forgotten too, and stays until a later look finds it pushed.
 *
 * <p>The limit is for the whole cache, which every mount and command of the home share: what
 * other processes add is counted when the cache is listed again (at most every 30 s, when this
 * process adds or uses an object), and may then be evicted here.
 *
 * <p>Deleting an object another process is reading is harmless (its descriptor keeps the
 * inode); that process fetches it again next time.
 */
public final class CacheBudget {
    private static final Logger log = LoggerFactory.getLogger(CacheBudget.class);

    private final Home home;
    private final long limit;
    private final Cache<String, Long> lru;
    /** Object name to the number of open files using it. */
    private final ConcurrentHashMap<String, AtomicInteger> pins = new ConcurrentHashMap<>();
    private final LocalCommits unpushed;
    /** How often the cache is listed again for what other processes added. */
    static final long RESCAN_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    private final java.util.concurrent.atomic.AtomicLong lastScan = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());

    /** Caffeine weighs in ints, so weights are KiB: objects up to 2 TiB fit. */
    private CacheBudget(Home home, long limitBytes) {
        this.home = home;
        this.limit = limitBytes;
        this.unpushed = new LocalCommits(home);
        this.lru = Caffeine.newBuilder()
                .maximumWeight(Math.max(1, limitBytes / 1024))
                .weigher((String k, Long size) -> (int) Math.min(Integer.MAX_VALUE, Math.max(1, (size + 1023) / 1024)))
                .executor(Runnable::run)
                .removalListener((String name, Long size, RemovalCause cause) -> {
                    if (cause.wasEvicted()) {
                        evicted(name, size == null ? 0 : size);
                    }
                })
                .build();
    }

    /** The budget of a home's object cache, recording the objects already there. */
    public static CacheBudget open(Home home, long limitBytes) throws IOException {
        CacheBudget b = new CacheBudget(home, limitBytes);
        b.scan();
        return b;
    }

    public long limitBytes() {
        return limit;
    }

    /** Records what is already in the cache, oldest first, so the LRU order starts sensible. */
    private void scan() throws IOException {
        Path dir = home.objects();
        if (!Files.isDirectory(dir)) {
            return;
        }
        record Found(String name, long size, long atime) { }
        List<Found> found = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                if (lru.getIfPresent(name) != null || pinned(name)) {
                    continue;
                }
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                    if (a.isRegularFile()) {
                        found.add(new Found(name, a.size(), a.lastAccessTime().toMillis()));
                    }
                } catch (java.nio.file.NoSuchFileException gone) {
                    // evicted by another process meanwhile
                }
            }
        }
        found.sort(Comparator.comparingLong(Found::atime));
        for (Found f : found) {
            lru.asMap().putIfAbsent(f.name(), f.size());
        }
        lru.cleanUp();
    }

    /**
     * Counts the objects other processes of the home (another mount, the CLI) put in the cache
     * since the last look, so that the limit holds for the whole cache, not for this process's
     * share of it. Runs at most every {@link #RESCAN_NANOS}, in the background.
     */
    private void adoptOthers() {
        long now = System.nanoTime();
        long last = lastScan.get();
        if (now - last < RESCAN_NANOS || !lastScan.compareAndSet(last, now)) {
            return;
        }
        Thread t = new Thread(this::rescan, "quiltfs-cache-scan");
        t.setDaemon(true);
        t.start();
    }

    /** One look at the whole cache (see {@link #adoptOthers}). */
    void rescan() {
        try {
            scan();
        } catch (IOException | RuntimeException e) {
            log.warn("cache limit: cannot list {}: {}", home.objects(), e.getMessage());
        }
    }

    /** An object was used (or just entered the cache): it becomes the most recent. */
    public void touch(String name, long size) {
        lru.asMap().compute(name, (k, v) -> size);
        adoptOthers();
    }

    /** An open file uses the object: it must not be deleted until {@link #unpin}. */
    public void pin(String name) {
        pins.computeIfAbsent(name, k -> new AtomicInteger()).incrementAndGet();
    }

    /** The open file is gone; records the object again (it may have been passed over meanwhile). */
    public void unpin(String name, long size) {
        AtomicInteger n = pins.get(name);
        if (n != null && n.decrementAndGet() <= 0) {
            pins.remove(name, n);
        }
        if (Files.isRegularFile(home.objects().resolve(name))) {
            touch(name, size);
        }
    }

    boolean pinned(String name) {
        AtomicInteger n = pins.get(name);
        return n != null && n.get() > 0;
    }

    /** Total bytes recorded (for tests and statfs). */
    public long usedBytes() {
        long t = 0;
        for (Long s : lru.asMap().values()) {
            t += s;
        }
        return t;
    }

    public boolean tracks(String name) {
        return lru.getIfPresent(name) != null;
    }

    private void evicted(String name, long size) {
        if (pinned(name)) {
            log.debug("cache limit: keeping {} (in use by an open file)", name);
            return;
        }
        try {
            if (unpushed.uses(name)) {
                log.debug("cache limit: keeping {} (a local commit not yet pushed uses it)", name);
                return;
            }
        } catch (IOException | RuntimeException e) {
            log.warn("cache limit: keeping {}: cannot tell whether a local commit uses it ({})", name,
                    e.getMessage());
            return;
        }
        try {
            Files.deleteIfExists(home.objects().resolve(name));
            Files.deleteIfExists(home.stamps().resolve(name));
            log.debug("cache limit: evicted {} ({} bytes)", name, size);
        } catch (IOException e) {
            log.warn("cache limit: cannot evict {}: {}", name, e.getMessage());
        }
    }
}
