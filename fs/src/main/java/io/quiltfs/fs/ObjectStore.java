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
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a row into readable bytes: straight from the verified object cache when the object is
 * there, else through the one {@link RangedFetch} of that object (single flight: however many
 * files and readers want it, it is fetched once). A fetch that stalls is abandoned, whether or not
 * anyone waits for it, and never joined again: the next read, on any descriptor, starts a new one
 * (on the descriptor that saw the failure, once the retry pause has passed).
 * Reads far ahead of a fetch are answered by ranged reads of their own, so that a seek to the
 * middle or the end of a large file does not wait for the bytes before it; while they stay
 * sequential, each such read fetches twice as much as the one before (up to {@link #AHEAD_MAX}),
 * kept for the reads that follow, and written into the fetch's file ({@link RangedFetch#donate}):
 * the fetch skips them, later reads far ahead are served from there, and a read whose bytes a
 * ranged read in flight is bringing waits for it rather than asking the server again.
 */
public final class ObjectStore implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(ObjectStore.class);
    /** A read this far beyond the fetched bytes gets its own ranged read instead of waiting. */
    static final long FAR_AHEAD = 16L << 20;
    /** The largest read-ahead of one descriptor reading far ahead of the fetch (kept in memory). */
    static final int AHEAD_MAX = 4 << 20;

    private final ObjectCache cache;
    private final CacheBudget budget;
    private final Function<PhysicalKey, ObjectSource> sources;
    private final long stallNanos;
    /** How long after a fetch failed a read of the same descriptor gets that failure again. */
    private final long retryPauseNanos;
    private final ConcurrentHashMap<String, RangedFetch> inFlight = new ConcurrentHashMap<>();
    private final ExecutorService fetchers;
    /** Abandons the fetches that stalled while nobody waited for them. */
    private final ScheduledExecutorService watchdog;
    private volatile boolean closing;

    /**
     * {@code sources} finds the source of a physical key (see Registries.sourceFor); a fetch that
     * delivers no byte for {@code stallMillis} fails with EIO.
     */
    public ObjectStore(ObjectCache cache, CacheBudget budget, Function<PhysicalKey, ObjectSource> sources,
                       long stallMillis) {
        this(cache, budget, sources, stallMillis, 0);
    }

    /**
     * As above; a read of a descriptor whose fetch failed less than {@code retryPauseMillis} ago
     * gets that failure instead of starting a new fetch. The kernel sends the reads of a failed
     * read-ahead again at once, one by one (and the reads it had queued follow): without the
     * pause, each would start a fetch that fails the same way, and the program's one {@code read}
     * would wait for all of them before its EIO.
     */
    public ObjectStore(ObjectCache cache, CacheBudget budget, Function<PhysicalKey, ObjectSource> sources,
                       long stallMillis, long retryPauseMillis) {
        this.retryPauseNanos = TimeUnit.MILLISECONDS.toNanos(retryPauseMillis);
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
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "quiltfs-fetch-watchdog");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(TimeUnit.MILLISECONDS.toNanos(10), stallNanos / 4);
        watchdog.scheduleWithFixedDelay(this::abandonStalled, every, every, TimeUnit.NANOSECONDS);
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
            Source s = source(e, name);
            if (s.fetch() == null) {
                budget.touch(name, e.size());
            }
            return new View(this, e, name, s);
        } catch (IOException | RuntimeException ex) {
            budget.unpin(name, e.size());
            throw ex;
        }
    }

    /** The cache file of the object, or the file of its fetch (started when none runs). */
    private Source source(Entry e, String name) throws IOException {
        IOException lastFailure = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            Path p;
            try {
                p = cache.lookup(e.hash());
            } catch (NoSuchFileException evicted) {
                continue; // removed by another process while being re-verified: absent
            }
            if (p != null) {
                try {
                    return new Source(FileChannel.open(p, StandardOpenOption.READ), null, p);
                } catch (NoSuchFileException gone) {
                    continue; // evicted by another process meanwhile
                }
            }
            RangedFetch f = fetch(e, name);
            try {
                return new Source(FileChannel.open(f.tmp(), StandardOpenOption.READ), f, null);
            } catch (NoSuchFileException finished) {
                // The fetch finished (adopted or failed) between starting and opening its file.
                try {
                    f.awaitDone();
                } catch (IOException failed) {
                    if (!f.retryable()) {
                        throw failed;
                    }
                    lastFailure = failed;
                }
            }
        }
        if (lastFailure != null) {
            throw lastFailure;
        }
        throw new IOException("'" + e.logicalKey() + "' keeps disappearing from the object cache "
                + cache.home().objects() + " (is another process evicting it?)");
    }

    /** The fetches running now (tests). */
    java.util.Collection<RangedFetch> inFlight() {
        return inFlight.values();
    }

    /** The fetch of this object: the one running, unless it failed or stalled; else a new one. */
    private RangedFetch fetch(Entry e, String name) throws IOException {
        if (closing) {
            throw new IOException("the mount is closing");
        }
        RangedFetch running;
        while ((running = inFlight.get(name)) != null) {
            running.abortIfStalled();
            if (!running.failed()) {
                return running;
            }
            inFlight.remove(name, running); // never joined: it is over (its own callback removes it too)
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
            return fetch(e, name); // another thread started one meanwhile: look at it as above
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

    /** Abandons every fetch in flight that delivered nothing for the stall deadline. */
    private void abandonStalled() {
        try {
            for (RangedFetch f : inFlight.values()) {
                f.abortIfStalled();
            }
        } catch (RuntimeException ex) {
            log.warn("checking the fetches in flight failed: {}", ex.toString());
        }
    }

    private static String message(Throwable t) {
        Throwable c = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }

    /**
     * One ranged read from the source, not kept in the cache. Its deadline is the stall
     * deadline: it fails once no byte arrived for that long.
     */
    private byte[] readRange(PhysicalKey key, long offset, int len) throws IOException {
        byte[] b = new byte[len];
        AtomicInteger got = new AtomicInteger();
        AtomicReference<InputStream> stream = new AtomicReference<>();
        Future<Void> task = CompletableFuture.runAsync(() -> {
            try (InputStream in = sources.apply(key).open(key, offset, len)) {
                stream.set(in);
                int n = 0;
                while (n < len) {
                    int r = in.read(b, n, len - n);
                    if (r < 0) {
                        throw new IOException(key + " ended at byte " + (offset + n) + ", before the manifest's size");
                    }
                    n += r;
                    got.set(n);
                }
            } catch (IOException ex) {
                throw new java.io.UncheckedIOException(ex);
            }
        }, fetchers);
        int seen = 0;
        while (true) {
            try {
                task.get(stallNanos, TimeUnit.NANOSECONDS);
                return b;
            } catch (TimeoutException te) {
                int now = got.get();
                if (now > seen) {
                    seen = now; // bytes keep coming: wait on
                    continue;
                }
                task.cancel(true);
                InputStream in = stream.get();
                if (in != null) {
                    try {
                        in.close(); // unblocks the fetch thread, for sources that allow it
                    } catch (IOException ignored) {
                        // it stops at its socket's own timeout
                    }
                }
                throw new IOException("no data from " + key + " for " + TimeUnit.NANOSECONDS.toSeconds(stallNanos)
                        + " s for a ranged read at " + offset + " (gave up; the next read retries)");
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            } catch (ExecutionException ee) {
                Throwable c = ee.getCause() instanceof java.io.UncheckedIOException u ? u.getCause() : ee.getCause();
                throw c instanceof IOException io ? io : new IOException(c);
            }
        }
    }

    /** Stops the fetches in flight and drops their partial bytes, then the cache's trimmer. */
    @Override
    public void close() {
        closing = true;
        watchdog.shutdownNow();
        for (RangedFetch f : inFlight.values()) {
            f.abort(new IOException("the mount is closing"));
        }
        fetchers.shutdownNow();
        budget.close();
    }

    /** The file a view reads: the verified cache file ({@code cached}), or the file of a fetch. */
    private record Source(FileChannel ch, RangedFetch fetch, Path cached) { }

    /** Bytes {@code [start, start + bytes.length)} of the object, read ahead of the fetch. */
    private record Ahead(long start, byte[] bytes) {
        long end() {
            return start + bytes.length;
        }
    }

    /**
     * An open object: reads by offset, from the cache file or from a fetch as it arrives. When its
     * fetch failed (stalled, say), the next read after the retry pause starts a new one (or joins a healthy one), unless
     * the object's content did not match the row: that takes a new open.
     */
    public static final class View implements Closeable {
        private final ObjectStore store;
        private final Entry entry;
        private final String name;
        private final Path cachedAtOpen;
        /** Replaced (compare-and-set) when a failed fetch is retried. */
        private final AtomicReference<Source> source;
        /** Channels of fetches given up on, closed with the view (a read may still use one). */
        private final java.util.Queue<FileChannel> retired = new java.util.concurrent.ConcurrentLinkedQueue<>();
        /** What the last read far ahead of the fetch fetched (null when none or caught up). */
        private volatile Ahead ahead;
        private volatile boolean closed;

        private View(ObjectStore store, Entry entry, String name, Source s) {
            this.store = store;
            this.entry = entry;
            this.name = name;
            this.cachedAtOpen = s.cached();
            this.source = new AtomicReference<>(s);
        }

        /** The verified cache file this view reads, when the object was cached at open (else null). */
        public Path cachedFile() {
            return cachedAtOpen;
        }

        /** Whether the object was verified and cached when opened (so the kernel may keep its pages). */
        public boolean cachedAtOpen() {
            return cachedAtOpen != null;
        }

        public Entry entry() {
            return entry;
        }

        /** Waits until the object is verified in the cache (fetching it to the end) and returns its path. */
        public Path awaitCached() throws IOException {
            Source s = current();
            if (s.fetch() == null) {
                // Verified when the view opened it, and pinned since.
                return s.cached() != null ? s.cached() : store.cache.lookup(entry.hash());
            }
            return s.fetch().awaitDone();
        }

        /** The source to read: a new one when the fetch failed and may succeed another time. */
        private Source current() throws IOException {
            Source s = source.get();
            if (s.fetch() == null || !s.fetch().retryable() || closed) {
                return s;
            }
            if (System.nanoTime() - s.fetch().failedAt() < store.retryPauseNanos) {
                s.fetch().failure(); // throws: the failure that just ended it, not a new fetch
            }
            Source fresh = store.source(entry, name);
            if (source.compareAndSet(s, fresh)) {
                retired.add(s.ch());
                if (closed) {
                    closeQuietly(fresh.ch()); // closed meanwhile: close() no longer sees it
                }
                return fresh;
            }
            closeQuietly(fresh.ch()); // another read retried first: use its source
            return source.get();
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
            Source s = current();
            RangedFetch fetch = s.fetch();
            if (fetch != null) {
                if (end >= size) {
                    fetch.awaitVerified();
                    ahead = null; // the fetch caught up: its file serves from here
                } else if (fetch.available() < end) {
                    if (offset > fetch.available() + FAR_AHEAD) {
                        fetch.failure();
                        int n = readAhead(fetch, s.ch(), offset, dst, end);
                        if (n >= 0) {
                            return n;
                        }
                        // else an earlier read far ahead put these bytes in the fetch's file
                    } else {
                        fetch.awaitAvailable(end);
                        ahead = null;
                    }
                } else {
                    fetch.failure();
                    ahead = null;
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
                    int n = s.ch().read(dst, offset + total);
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

        /**
         * A read far ahead of the fetch (not reaching the end): served from what the previous such
         * read fetched when it holds the bytes; else by a ranged read of its own, which fetches
         * twice as much as the previous one when this read follows on from it (sequential), and
         * keeps what it fetched. Bytes already held are not fetched again, and what is fetched is
         * handed to the whole-object fetch too ({@link RangedFetch#donate}): it skips those bytes
         * unless one of its streams already has them in hand. A read whose first byte another
         * reader's ranged read is bringing waits for it. -1 when the bytes are in the fetch's file
         * (the caller reads them there).
         */
        private int readAhead(RangedFetch f, FileChannel file, long offset, ByteBuffer dst, long end)
                throws IOException {
            while (true) {
                Ahead a = ahead;
                if (a != null && offset >= a.start() && end <= a.end()) {
                    f.failure(); // held from before the fetch failed (awaitClaim's continue): never handed out
                    int n = (int) (end - offset);
                    dst.put(a.bytes(), (int) (offset - a.start()), n);
                    return n;
                }
                int want = (int) (end - offset);
                boolean sequential = a != null && offset >= a.start() && offset <= a.end() + a.bytes().length;
                long len = sequential ? Math.max(want, Math.min(2L * a.bytes().length, AHEAD_MAX)) : want;
                len = Math.min(len, entry.size() - offset);
                long inMemory = sequential ? Math.max(offset, a.end()) : offset;
                long inFile;
                long from;
                long to;
                RangedFetch.Claim coming;
                RangedFetch.Claim mine = null;
                // Planned under the fetch's planning lock (no I/O in it), so that reads arriving
                // together (the kernel's read-ahead) never ask for the same bytes twice.
                synchronized (f.planning()) {
                    if (f.holds(offset, end)) {
                        return -1;
                    }
                    coming = f.claimAt(offset);
                    // What precedes the bytes to fetch is held already: in memory (the previous
                    // read ahead) or in the fetch's file; the bytes to fetch stop where bytes held
                    // or on their way begin. When the rest of this read is held, only the gap
                    // before it is fetched (else the bytes held within the read come again: one
                    // request costs more than they do).
                    inFile = f.heldEnd(offset, offset + len);
                    from = Math.max(inMemory, inFile);
                    to = from;
                    if (coming == null && from < end) {
                        long taken = f.nextTaken(from, offset + len);
                        to = taken < end && f.holds(taken, end) ? taken : Math.max(end, taken);
                        mine = f.claim(from, to);
                    }
                }
                if (coming != null) {
                    awaitClaim(coming); // then held, or it failed: look again
                    continue;
                }
                byte[] bytes = new byte[(int) (Math.max(to, end) - offset)];
                int kept = (int) (from - offset);
                if (inFile >= from) {
                    readFully(file, ByteBuffer.wrap(bytes, 0, kept), offset);
                } else {
                    System.arraycopy(a.bytes(), (int) (offset - a.start()), bytes, 0, kept);
                }
                if (mine != null) {
                    try {
                        byte[] fetched = store.readRange(f.key(), from, (int) (to - from));
                        f.donate(from, fetched, 0, fetched.length); // so that the fetch does not download them again
                        System.arraycopy(fetched, 0, bytes, kept, fetched.length);
                    } finally {
                        f.release(mine);
                    }
                }
                if (to < end) {
                    readFully(file, ByteBuffer.wrap(bytes, (int) (to - offset), (int) (end - to)), to);
                }
                // The fetch may have failed verification while this read ran: the bytes it read
                // from the fetch's file are then no object's bytes (the normal path checks too).
                f.failure();
                a = new Ahead(offset, bytes);
                ahead = a;
                int n = (int) (end - offset);
                dst.put(a.bytes(), 0, n);
                return n;
            }
        }

        private void readFully(FileChannel file, ByteBuffer dst, long offset) throws IOException {
            for (long pos = offset; dst.hasRemaining(); ) {
                int n = file.read(dst, pos);
                if (n < 0) {
                    throw new IOException("the fetch file of '" + entry.logicalKey() + "' ended at byte " + pos);
                }
                pos += n;
            }
        }

        /**
         * Waits for another reader's ranged read; it ends within the stall deadline (it gives up
         * once no byte came for that long), and if it failed this reader reads for itself.
         */
        private void awaitClaim(RangedFetch.Claim c) throws IOException {
            try {
                c.done().get(store.stallNanos, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            } catch (ExecutionException | TimeoutException e) {
                // it will not bring the bytes: read them here
            }
        }

        @Override
        public void close() throws IOException {
            closed = true;
            ahead = null;
            try {
                source.get().ch().close();
                FileChannel old;
                while ((old = retired.poll()) != null) {
                    closeQuietly(old);
                }
            } finally {
                store.budget.unpin(name, entry.size());
            }
        }

        private static void closeQuietly(FileChannel ch) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // a read-only channel: nothing to lose
            }
        }
    }
}
