package io.quiltfs.fs;

import io.quiltfs.store.cache.ChecksumMismatchException;
import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.Hasher;
import io.quiltfs.store.hash.Hashers;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.registry.PhysicalKey;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One object on its way into the cache: read from its physical key in consecutive ranges that
 * double in size (a small first range answers the first read quickly; later ones keep the
 * stream efficient) and written to a temporary file. Once the first range is in, up to
 * {@link #STREAMS} ranges are in flight at once, each on its own fetch thread: where one
 * connection gives less than the link (real S3), several fill it; against a server on the same
 * machine it makes no measurable difference (bench/RESULTS.md). Readers see the bytes already written with nothing missing before them
 * ({@link #available}). A second thread hashes the file right behind the writer, so fetching
 * and hashing overlap; {@link #verified} completes once every byte hashed to the row's checksum,
 * and only then does the object enter the cache ({@link #done}). A mismatch, a short object or a
 * stall deletes the bytes and fails both. Bytes that readers far ahead fetched on their own are
 * {@linkplain #donate donated} into the file, and the ranges skip them.
 *
 * <p>Threading: {@link #run} on one fetch thread, which starts up to {@link #STREAMS} - 1 helper
 * threads once the first range is in; the hashing on another thread; every other method from any
 * thread. Waiters block on {@code progress}, a monitor that is only signalled and never
 * held across I/O.
 */
final class RangedFetch implements Runnable {
    static final long FIRST_RANGE = 1L << 20;
    static final long MAX_RANGE = 64L << 20;
    private static final int BUFFER = 1 << 20;
    private static final int FIRST_STEP = 64 << 10;
    /** The longest a step waits for more bytes before handing on what it has. */
    private static final long FILL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** Waiting for local work (hashing the rest, fsync, rename) after the last byte arrived. */
    private static final long FINISH_TIMEOUT_NANOS = TimeUnit.MINUTES.toNanos(10);
    /** Ranges in flight at once after the first ({@code -Dquiltfs.fetch.streams}, default 3). */
    static final int STREAMS = Math.max(1, Integer.getInteger("quiltfs.fetch.streams", 3));

    final Entry entry;
    final String name;
    private final PhysicalKey key;
    private final ObjectSource source;
    private final ObjectCache cache;
    private final Path tmp;
    private final long stallNanos;
    /** When the fetch failed or was given up on ({@link System#nanoTime}); read once it failed. */
    private volatile long failedAt;
    private final Executor hashing;
    private final Object progress = new Object();
    private volatile long available;
    private volatile long lastProgress = System.nanoTime();
    /** The streams being read now (closed by {@link #abort} to unblock their threads). */
    private final Set<InputStream> current = ConcurrentHashMap.newKeySet();
    /** Guards {@link #cursor}, {@link #nextLength} and {@link #pending}. */
    private final Object ranges = new Object();
    /** Bytes before the cursor have been handed to a stream; the next range starts there. */
    private long cursor;
    private long nextLength = FIRST_RANGE;
    /** Ranges handed out and not yet complete, in order of their start. */
    private final ArrayDeque<Range> pending = new ArrayDeque<>();
    /**
     * Ranges beyond the cursor whose bytes a reader far ahead fetched and {@linkplain #donate
     * donated} (by start; none overlap): the cursor skips them instead of fetching them again.
     */
    private final TreeMap<Long, Range> donated = new TreeMap<>();
    /** Every donated range, by start, for {@link #holds} (the cursor takes them out of {@link #donated}). */
    private final TreeMap<Long, Range> donations = new TreeMap<>();
    /** Ranged reads of readers far ahead in flight (their bytes will be donated). */
    private final List<Claim> claims = new ArrayList<>();
    /** Held by a reader far ahead while it decides what to fetch (never across I/O). */
    private final Object planning = new Object();

    /** Bytes {@code [start, end)} being read by a reader far ahead; done once donated (or failed). */
    record Claim(long start, long end, CompletableFuture<Void> done) {
    }

    /** {@code [start, end)} of the object; {@code written} bytes of it are on disk. */
    private static final class Range {
        final long start;
        final long end;
        long written;

        Range(long start, long end) {
            this.start = start;
            this.end = end;
        }
    }
    /** Every byte arrived and hashed to the row's checksum. */
    final CompletableFuture<Void> verified = new CompletableFuture<>();
    /** The verified object is in the cache (its path), or the fetch failed. */
    final CompletableFuture<Path> done = new CompletableFuture<>();

    RangedFetch(Entry entry, String name, PhysicalKey key, ObjectSource source, ObjectCache cache, Path tmp,
                long stallNanos, Executor hashing) {
        this.entry = entry;
        this.name = name;
        this.key = key;
        this.source = source;
        this.cache = cache;
        this.tmp = tmp;
        this.stallNanos = stallNanos;
        this.hashing = hashing;
    }

    Path tmp() {
        return tmp;
    }

    PhysicalKey key() {
        return key;
    }

    /** Bytes [0, available) are on disk in {@link #tmp}. */
    long available() {
        return available;
    }

    @Override
    public void run() {
        long size = entry.size();
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            hashing.execute(this::hashBehind);
            byte[] buf = new byte[(int) Math.min(BUFFER, Math.max(1, size))];
            // The first range alone (the first read waits for it), then the others in parallel.
            Range first = nextRange();
            if (first != null) {
                fetchRange(first, out, buf);
            }
            List<CompletableFuture<Void>> helpers = new ArrayList<>();
            try {
                Range r;
                for (int i = 1; i < STREAMS && !verified.isDone() && (r = nextRange()) != null; i++) {
                    Range own = r;
                    helpers.add(CompletableFuture.runAsync(() -> {
                        try {
                            byte[] b = new byte[BUFFER];
                            fetchRange(own, out, b);
                            fetchRanges(out, b);
                        } catch (Throwable t) {
                            fail(t);
                        }
                    }, hashing));
                }
                fetchRanges(out, buf);
            } catch (Throwable t) {
                fail(t); // before the helpers see the channel closed: the first cause is the one kept
            } finally {
                for (CompletableFuture<Void> h : helpers) {
                    h.join(); // they stop at their next step once the fetch failed
                }
            }
            if (verified.isCompletedExceptionally()) {
                return; // aborted or failed (the hashing may already have verified a complete object)
            }
            awaitAvailable(size); // a donated range may still be being written by its reader
            if (available < size) {
                throw new IOException("fetching " + key + " stopped at byte " + available + " of " + size);
            }
        } catch (Throwable t) {
            fail(t);
            return;
        }
        try {
            verified.get();
            done.complete(cache.adoptVerified(entry.hash(), tmp));
        } catch (ExecutionException e) {
            fail(e.getCause());
        } catch (Throwable t) {
            fail(t);
        } finally {
            signal();
        }
    }

    /**
     * The next range to fetch, or null when every range was handed out. Donated ranges the
     * cursor reaches are taken in order (their bytes are on disk, or being written by their
     * reader) and ranges end where the next donated one starts.
     */
    private Range nextRange() {
        Range r = null;
        long to;
        synchronized (ranges) {
            long size = entry.size();
            Range d;
            while ((d = donated.get(cursor)) != null) {
                donated.remove(cursor);
                pending.addLast(d);
                cursor = d.end;
            }
            if (cursor < size) {
                Long next = donated.ceilingKey(cursor);
                long end = Math.min(cursor + Math.min(nextLength, size - cursor), next == null ? size : next);
                r = new Range(cursor, end);
                cursor = r.end;
                nextLength = Math.min(nextLength * 2, MAX_RANGE);
                pending.addLast(r);
            }
            to = prefix();
        }
        if (to > available) {
            advance(to); // donated ranges just taken may extend the prefix
        }
        return r;
    }

    /**
     * Takes bytes {@code [offset, offset + len)} of the object that a reader far ahead fetched
     * with a ranged read of its own, so that the whole-object fetch need not download them again.
     * Only the part beyond every range handed out so far (and clear of other donations) is
     * taken: bytes below the cursor are written, or being written, by the fetch's own streams,
     * and the hashing may already have read them, so they are never written twice. The bytes
     * are verified with the rest of the object: nothing enters the cache unless the whole file
     * hashes to the row's checksum.
     */
    void donate(long offset, byte[] b, int off, int len) {
        List<Range> mine = new ArrayList<>();
        synchronized (ranges) {
            if (verified.isDone()) {
                return;
            }
            long end = Math.min(offset + len, entry.size());
            long pos = Math.max(offset, cursor);
            while (pos < end) {
                java.util.Map.Entry<Long, Range> at = donated.floorEntry(pos);
                if (at != null && at.getValue().end > pos) {
                    pos = at.getValue().end; // donated already (by a read that overlapped this one)
                    continue;
                }
                Long next = donated.ceilingKey(pos);
                Range d = new Range(pos, next == null ? end : Math.min(end, next));
                donated.put(d.start, d);
                donations.put(d.start, d);
                mine.add(d);
                pos = d.end;
            }
        }
        // Outside the lock (local I/O): the ranges are claimed, no stream writes there and the
        // prefix does not pass them until they are written.
        try (FileChannel out = mine.isEmpty() ? null : FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            for (Range d : mine) {
                ByteBuffer bb = ByteBuffer.wrap(b, off + (int) (d.start - offset), (int) (d.end - d.start));
                for (long pos = d.start; bb.hasRemaining(); ) {
                    pos += out.write(bb, pos);
                }
                written(d, d.end - d.start);
            }
        } catch (Throwable t) {
            fail(t); // a claimed range will never be written: the fetch cannot finish
        }
    }

    /** Fetches ranges until none is left or the fetch ended. */
    private void fetchRanges(FileChannel out, byte[] buf) throws IOException {
        Range r;
        while (!verified.isDone() && (r = nextRange()) != null) {
            fetchRange(r, out, buf);
        }
    }

    private void fetchRange(Range r, FileChannel out, byte[] buf) throws IOException {
        long len = r.end - r.start;
        InputStream in = source.open(key, r.start, len);
        current.add(in);
        try (in) {
            long got = 0;
            while (got < len) {
                if (verified.isDone()) {
                    return; // aborted (a reader gave up) or failed: nothing more to do
                }
                // Small steps at first so the first bytes reach a waiting reader at once.
                // A step is filled before it is written: a socket read returns a few KiB,
                // and writing and signalling each one cost more than the bytes (context
                // switches of the hashing thread and of waiting readers).
                int step = r.start + got < FIRST_RANGE ? FIRST_STEP : buf.length;
                int n = fill(in, buf, (int) Math.min(step, len - got));
                if (n == 0) {
                    continue; // aborted meanwhile: the check above returns
                }
                if (n < 0) {
                    throw new IOException(key + " has only " + (r.start + got) + " bytes, the manifest says "
                            + entry.size());
                }
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                long pos = r.start + got;
                while (bb.hasRemaining()) {
                    pos += out.write(bb, pos);
                }
                got += n;
                written(r, got);
            }
        } finally {
            current.remove(in);
        }
    }

    /**
     * Whether bytes {@code [offset, end)} are on disk in {@link #tmp}: before {@link #available},
     * or in donated ranges already written (not verified yet, as any byte before the end).
     */
    boolean holds(long offset, long end) {
        return heldEnd(offset, end) >= end;
    }

    /** The end of the bytes from {@code offset} on (up to {@code limit}) that are on disk with none missing. */
    long heldEnd(long offset, long limit) {
        long pos = offset < available ? available : offset;
        synchronized (ranges) {
            while (pos < limit) {
                var below = donations.floorEntry(pos);
                if (below == null) {
                    break;
                }
                Range d = below.getValue();
                if (d.end <= pos || d.written < d.end - d.start) {
                    break;
                }
                pos = d.end;
            }
        }
        return Math.min(pos, Math.max(offset, limit));
    }

    /**
     * Where, after {@code from} and before {@code limit}, bytes start that are donated or being
     * read by a reader far ahead ({@code limit} if none): a ranged read stops there.
     */
    long nextTaken(long from, long limit) {
        long at = limit;
        synchronized (ranges) {
            Long d = donations.higherKey(from);
            if (d != null) {
                at = Math.min(at, d);
            }
            for (Claim c : claims) {
                if (c.start() > from) {
                    at = Math.min(at, c.start());
                }
            }
        }
        return at;
    }

    /** The lock under which readers far ahead look at what is held and claim what they fetch. */
    Object planning() {
        return planning;
    }

    /** Records that a reader far ahead is reading {@code [start, end)}; {@link #release} it after donating. */
    Claim claim(long start, long end) {
        Claim c = new Claim(start, end, new CompletableFuture<>());
        synchronized (ranges) {
            claims.add(c);
        }
        return c;
    }

    void release(Claim c) {
        synchronized (ranges) {
            claims.remove(c);
        }
        c.done().complete(null);
    }

    /**
     * A ranged read in flight that holds byte {@code offset}, or null: a reader whose bytes
     * are on their way waits for them rather than asking the server for them again (the kernel
     * sends the reads of one read-ahead at once, on several threads).
     */
    Claim claimAt(long offset) {
        synchronized (ranges) {
            for (Claim c : claims) {
                if (c.start() <= offset && offset < c.end()) {
                    return c;
                }
            }
            return null;
        }
    }

    /** Records that {@code got} bytes of {@code r} are on disk; moves {@link #available} on. */
    private void written(Range r, long got) {
        long to;
        synchronized (ranges) {
            r.written = got;
            to = prefix();
        }
        if (to > available) {
            advance(to);
        }
    }

    /** Drops the complete ranges at the head; the end of the bytes on disk with none missing. */
    private long prefix() {
        Range head;
        while ((head = pending.peekFirst()) != null && head.written == head.end - head.start) {
            pending.removeFirst();
        }
        return head == null ? cursor : head.start + head.written;
    }

    /**
     * Reads until {@code buf[0, want)} is full, the stream ends, or {@link #FILL_NANOS} passed
     * with some bytes in hand (a slow source still shows progress); the bytes read, or -1 at the
     * stream's end.
     */
    private int fill(InputStream in, byte[] buf, int want) throws IOException {
        int n = 0;
        long start = System.nanoTime();
        while (n < want && !verified.isDone()) {
            int r = in.read(buf, n, want - n);
            if (r < 0) {
                return n == 0 ? -1 : n;
            }
            n += r;
            if (System.nanoTime() - start > FILL_NANOS) {
                break;
            }
        }
        return n;
    }

    /** Hashes the temporary file right behind the writer (the bytes are still in the page cache). */
    private void hashBehind() {
        long size = entry.size();
        try (FileChannel in = FileChannel.open(tmp, StandardOpenOption.READ)) {
            Hasher h = Hashers.create(entry.hash().type(), size);
            ByteBuffer buf = ByteBuffer.allocate(BUFFER);
            long pos = 0;
            while (pos < size) {
                long avail = available;
                if (avail <= pos) {
                    synchronized (progress) {
                        if (available <= pos && !verified.isDone()) {
                            progress.wait(100);
                        }
                    }
                    if (verified.isDone()) {
                        return;
                    }
                    continue;
                }
                buf.clear();
                buf.limit((int) Math.min(buf.capacity(), avail - pos));
                int n = in.read(buf, pos);
                if (n < 0) {
                    throw new IOException("the temporary file of " + key + " ended early");
                }
                h.update(buf.array(), 0, n);
                pos += n;
            }
            Checksum actual = h.finish();
            if (actual.equals(entry.hash())) {
                verified.complete(null);
            } else {
                fail(new ChecksumMismatchException(key.toString(), entry.hash(), actual));
            }
        } catch (Throwable t) {
            fail(t);
        } finally {
            signal();
        }
    }

    private void fail(Throwable t) {
        failedAt = System.nanoTime(); // before the failure shows: whoever sees it sees the time
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // the bytes are never adopted; a stray temporary file only costs space
        }
        if (verified.completeExceptionally(t) | done.completeExceptionally(t)) {
            closeStreams(); // the other streams stop now rather than at their socket's timeout
        }
        signal();
    }

    private void closeStreams() {
        for (InputStream in : current) {
            try {
                in.close(); // unblocks a read stuck on a socket, for sources that allow it
            } catch (IOException ignored) {
                // best effort; the fetch thread notices and stops
            }
        }
    }

    /**
     * Moves the contiguous prefix on. Only this counts as progress for the stall deadline: a range
     * stuck at the head of the prefix stalls every reader however fast the others stream.
     */
    private void advance(long to) {
        synchronized (progress) {
            if (to > available) {
                available = to;
                lastProgress = System.nanoTime();
            }
            progress.notifyAll();
        }
    }

    private void signal() {
        synchronized (progress) {
            progress.notifyAll();
        }
    }

    /**
     * Whether the fetch is still waiting for bytes and none came for the stall deadline (whether
     * or not anyone waits for it: a fetch left running in the background stalls too).
     */
    boolean stalled(long now) {
        return !verified.isDone() && available < entry.size() && now - lastProgress >= stallNanos;
    }

    /** Abandons the fetch if it {@linkplain #stalled stalled}; true if it did. */
    boolean abortIfStalled() {
        long now = System.nanoTime();
        if (!stalled(now)) {
            return false;
        }
        long since = now - lastProgress;
        abort(new IOException("no data from " + key + " for " + TimeUnit.NANOSECONDS.toSeconds(since)
                + " s (gave up; the next read retries)"));
        return true;
    }

    /** Gives up on a stalled fetch: readers get EIO, the bytes are dropped, the next read retries. */
    void abort(IOException why) {
        failedAt = System.nanoTime();
        if (verified.completeExceptionally(why) | done.completeExceptionally(why)) {
            closeStreams();
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // as in fail()
            }
            signal();
        }
    }

    /** Waits until bytes [0, end) are on disk; throws when the fetch failed or stalled. */
    void awaitAvailable(long end) throws IOException {
        while (available < end && !verified.isDone()) {
            waitForProgress();
        }
        failure();
    }

    /** Waits until the whole object arrived and matched its checksum. */
    void awaitVerified() throws IOException {
        awaitUntil(verified);
        failure();
    }

    /** Waits until the object is in the cache (or the fetch failed), and returns its path. */
    Path awaitDone() throws IOException {
        awaitUntil(done);
        failure();
        if (done.isCompletedExceptionally()) {
            throw new ReportedException("'" + entry.logicalKey() + "' could not be cached", null);
        }
        return done.getNow(null);
    }

    private void awaitUntil(CompletableFuture<?> f) throws IOException {
        long finishDeadline = 0;
        while (!f.isDone()) {
            if (available < entry.size() && !verified.isDone()) {
                waitForProgress();
            } else {
                long now = System.nanoTime();
                if (finishDeadline == 0) {
                    finishDeadline = now + FINISH_TIMEOUT_NANOS;
                } else if (now > finishDeadline) {
                    abort(new IOException("verifying " + key + " took too long"));
                }
                waitOn(f, TimeUnit.SECONDS.toNanos(1));
            }
        }
    }

    private void waitForProgress() throws IOException {
        if (abortIfStalled()) {
            return;
        }
        waitOn(verified, Math.max(1, stallNanos - (System.nanoTime() - lastProgress)));
    }

    private void waitOn(CompletableFuture<?> f, long nanos) throws IOException {
        synchronized (progress) {
            if (f.isDone()) {
                return;
            }
            try {
                progress.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + key);
            }
        }
    }

    /** Throws the fetch's failure, if it failed before its bytes were verified. */
    void failure() throws IOException {
        if (verified.isCompletedExceptionally()) {
            try {
                verified.get(0, TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                throw new ReportedException("'" + entry.logicalKey() + "': " + c.getMessage(), c);
            } catch (InterruptedException | TimeoutException e) {
                throw new IOException(e);
            }
        }
    }

    /** When it failed ({@link System#nanoTime}); meaningful once {@link #failed()}. */
    long failedAt() {
        return failedAt;
    }

    boolean failed() {
        return verified.isCompletedExceptionally();
    }

    /**
     * Whether the fetch failed for a reason that another attempt may not meet (a stall, a
     * dropped connection, a missing object): everything but content that does not match the row,
     * which only a new open tries again.
     */
    boolean retryable() {
        if (!verified.isCompletedExceptionally()) {
            return false;
        }
        try {
            verified.getNow(null);
            return false;
        } catch (java.util.concurrent.CompletionException e) {
            return !(e.getCause() instanceof ChecksumMismatchException);
        } catch (java.util.concurrent.CancellationException e) {
            return true;
        }
    }
}
