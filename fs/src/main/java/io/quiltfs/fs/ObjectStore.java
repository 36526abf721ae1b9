package io.quiltfs.fs;

import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.state.Home;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a row into readable bytes: straight from the verified object cache when the object is
 * there, else through the one {@link RangedFetch} of that object (single flight: however many
 * files and readers want it, it is fetched once). Reads far ahead of a fetch are answered by
 * their own ranged read so that a seek to the end of a large file does not wait for the middle.
 */
public final class ObjectStore implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ObjectStore.class);
    /** A read this far beyond the fetched bytes gets its own ranged read instead of waiting. */
    static final long FAR_AHEAD = 16L << 20;

    private final ObjectCache cache;
    private final CacheBudget budget;
    private final Function<PhysicalKey, ObjectSource> sources;
    private final long stallNanos;
    private final ConcurrentHashMap<String, RangedFetch> inFlight = new ConcurrentHashMap<>();
    private final ExecutorService fetchers;
    private volatile boolean closing;

    /**
     * {@code sources} finds the source of a physical key (see Registries.sourceFor); a fetch that
     * delivers no byte for {@code stallMillis} fails with EIO.
     */
    public ObjectStore(ObjectCache cache, CacheBudget budget, Function<PhysicalKey, ObjectSource> sources,
                       long stallMillis) {
        this.cache = cache;
        this.budget = budget;
        this.sources = sources;
        this.stallNanos = TimeUnit.MILLISECONDS.toNanos(stallMillis);
        AtomicInteger n = new AtomicInteger();
        ThreadFactory tf = r -> {
            Thread t = new Thread(r, "quiltfs-fetch-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.fetchers = Executors.newCachedThreadPool(tf);
    }

    public ObjectCache cache() {
        return cache;
    }

    public CacheBudget budget() {
        return budget;
    }

    /** Opens the row's object for reading; the object stays in the cache until the view closes. */
    public View open(Entry e) throws IOException {
        if (!e.hash().isWellFormed()) {
            throw new IOException("'" + e.logicalKey() + "' has a malformed " + e.hash().type().wireName()
                    + " hash; its content cannot be verified");
        }
        String name = Home.objectName(e.hash());
        budget.pin(name);
        try {
            View v = openPinned(e, name);
            if (v.fetch == null) {
                budget.touch(name, e.size());
            }
            return v;
        } catch (IOException | RuntimeException ex) {
            budget.unpin(name, e.size());
            throw ex;
        }
    }

    private View openPinned(Entry e, String name) throws IOException {
        for (int attempt = 0; attempt < 3; attempt++) {
            Path p;
            try {
                p = cache.lookup(e.hash());
            } catch (NoSuchFileException evicted) {
                continue; // removed by another process while being re-verified: absent
            }
            if (p != null) {
                try {
                    return new View(this, e, name, FileChannel.open(p, StandardOpenOption.READ), null, p);
                } catch (NoSuchFileException gone) {
                    continue; // evicted by another process meanwhile
                }
            }
            RangedFetch f = fetch(e, name);
            try {
                return new View(this, e, name, FileChannel.open(f.tmp(), StandardOpenOption.READ), f, null);
            } catch (NoSuchFileException finished) {
                // The fetch finished (adopted or failed) between starting and opening its file.
                f.awaitDone();
            }
        }
        throw new IOException("'" + e.logicalKey() + "' keeps disappearing from the object cache "
                + cache.home().objects() + " (is another process evicting it?)");
    }

    /** The fetch of this object, started when none runs. */
    private RangedFetch fetch(Entry e, String name) throws IOException {
        RangedFetch running = inFlight.get(name);
        if (running != null) {
            return running;
        }
        PhysicalKey pk;
        try {
            pk = PhysicalKey.parse(e.physicalKey());
        } catch (IllegalArgumentException ex) {
            throw new IOException(ex.getMessage());
        }
        ObjectSource src = sources.apply(pk);
        Path tmp = cache.newTemp("fetch");
        RangedFetch mine = new RangedFetch(e, name, pk, src, cache, tmp, stallNanos, fetchers);
        running = inFlight.putIfAbsent(name, mine);
        if (running != null) {
            java.nio.file.Files.deleteIfExists(tmp);
            return running;
        }
        mine.done.whenComplete((path, failure) -> {
            inFlight.remove(name, mine);
            if (failure == null) {
                budget.touch(name, e.size());
                log.debug("fetched '{}' from {}", e.logicalKey(), pk);
            } else if (closing) {
                log.debug("dropped the partial fetch of '{}' (unmounting)", e.logicalKey());
            } else {
                log.warn("cannot read '{}' ({}): {}", e.logicalKey(), pk, message(failure));
            }
        });
        fetchers.execute(mine);
        return mine;
    }

    private static String message(Throwable t) {
        Throwable c = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }

    /** One ranged read from the source, with the stall deadline; the bytes are not kept. */
    private int readDirect(RangedFetch f, long offset, ByteBuffer dst, int len) throws IOException {
        Future<byte[]> task = CompletableFuture.supplyAsync(() -> {
            try (InputStream in = sources.apply(f.key()).open(f.key(), offset, len)) {
                return in.readNBytes(len);
            } catch (IOException ex) {
                throw new java.io.UncheckedIOException(ex);
            }
        }, fetchers);
        try {
            byte[] b = task.get(stallNanos, TimeUnit.NANOSECONDS);
            dst.put(b);
            return b.length;
        } catch (TimeoutException te) {
            task.cancel(true);
            throw new IOException("no answer from " + f.key() + " for a ranged read at " + offset);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        } catch (ExecutionException ee) {
            Throwable c = ee.getCause() instanceof java.io.UncheckedIOException u ? u.getCause() : ee.getCause();
            throw c instanceof IOException io ? io : new IOException(c);
        }
    }

    /** Stops the fetches in flight and drops their partial bytes. */
    @Override
    public void close() {
        closing = true;
        for (RangedFetch f : inFlight.values()) {
            f.abort(new IOException("the mount is closing"));
        }
        fetchers.shutdownNow();
    }

    /** An open object: reads by offset, from the cache file or from a fetch as it arrives. */
    public static final class View implements Closeable {
        private final ObjectStore store;
        private final Entry entry;
        private final String name;
        private final FileChannel ch;
        private final RangedFetch fetch;
        private final Path cached;

        View(ObjectStore store, Entry entry, String name, FileChannel ch, RangedFetch fetch, Path cached) {
            this.store = store;
            this.entry = entry;
            this.name = name;
            this.ch = ch;
            this.fetch = fetch;
            this.cached = cached;
        }

        /** The verified cache file this view reads, when the object was cached at open (else null). */
        public Path cachedFile() {
            return cached;
        }

        /** Whether the object was verified and cached when opened (so the kernel may keep its pages). */
        public boolean cachedAtOpen() {
            return fetch == null;
        }

        public Entry entry() {
            return entry;
        }

        /** Waits until the object is verified in the cache (fetching it to the end) and returns its path. */
        public Path awaitCached() throws IOException {
            return fetch == null ? store.cache.lookup(entry.hash()) : fetch.awaitDone();
        }

        /**
         * Reads up to {@code dst.remaining()} bytes at {@code offset}; fewer only at end of file.
         * A read that reaches the end of the file returns only once the whole object verified.
         */
        public int read(long offset, ByteBuffer dst) throws IOException {
            long size = entry.size();
            if (offset < 0) {
                throw new FsException(Errno.EINVAL, "negative offset");
            }
            long end = Math.min(size, offset + dst.remaining());
            if (fetch != null) {
                if (end >= size) {
                    fetch.awaitVerified();
                } else if (fetch.available() < end) {
                    if (offset > fetch.available() + FAR_AHEAD) {
                        fetch.failure();
                        return store.readDirect(fetch, offset, dst, (int) (end - offset));
                    }
                    fetch.awaitAvailable(end);
                } else {
                    fetch.failure();
                }
            }
            if (offset >= size) {
                return 0;
            }
            int limit = dst.limit();
            dst.limit(dst.position() + (int) (end - offset));
            int total = 0;
            try {
                while (dst.hasRemaining()) {
                    int n = ch.read(dst, offset + total);
                    if (n < 0) {
                        throw new IOException("cached object of '" + entry.logicalKey() + "' is shorter than "
                                + size + " bytes");
                    }
                    total += n;
                }
            } finally {
                dst.limit(limit);
            }
            if (fetch != null && fetch.failed()) {
                fetch.failure(); // never hand out bytes of an object that failed verification
            }
            return total;
        }

        @Override
        public void close() throws IOException {
            try {
                ch.close();
            } finally {
                store.budget.unpin(name, entry.size());
            }
        }
    }
}
