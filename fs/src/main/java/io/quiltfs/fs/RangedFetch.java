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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One object on its way into the cache: read from its physical key in consecutive ranges that
 * double in size (a first small range answers the first read quickly; later ones keep the
 * stream efficient), written to a temporary file and hashed as the bytes arrive. Readers see
 * the bytes already written ({@link #available}); the object enters the cache only once all of
 * it hashed to the row's checksum. A mismatch, a short object or a stall deletes the bytes and
 * fails {@link #done}.
 *
 * <p>Threading: {@link #run} on one fetch thread; every other method from any thread. Readers
 * wait on {@code progress} (a monitor only signalled, never held across I/O).
 */
final class RangedFetch implements Runnable {
    static final long FIRST_RANGE = 1L << 20;
    static final long MAX_RANGE = 64L << 20;
    private static final int BUFFER = 1 << 20;
    /** Waiting for local work (hash check, fsync, rename) after the last byte arrived. */
    private static final long FINISH_TIMEOUT_NANOS = TimeUnit.MINUTES.toNanos(10);

    final Entry entry;
    final String name;
    private final PhysicalKey key;
    private final ObjectSource source;
    private final ObjectCache cache;
    private final Path tmp;
    private final long stallNanos;
    private final Object progress = new Object();
    private volatile long available;
    private volatile long lastProgress = System.nanoTime();
    private volatile InputStream current;
    final CompletableFuture<Path> done = new CompletableFuture<>();

    RangedFetch(Entry entry, String name, PhysicalKey key, ObjectSource source, ObjectCache cache, Path tmp,
                long stallNanos) {
        this.entry = entry;
        this.name = name;
        this.key = key;
        this.source = source;
        this.cache = cache;
        this.tmp = tmp;
        this.stallNanos = stallNanos;
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
            Hasher h = Hashers.create(entry.hash().type(), size);
            byte[] buf = new byte[(int) Math.min(BUFFER, Math.max(1, size))];
            long off = 0;
            long range = FIRST_RANGE;
            while (off < size) {
                long len = Math.min(range, size - off);
                try (InputStream in = source.open(key, off, len)) {
                    current = in;
                    long got = 0;
                    while (got < len) {
                        if (done.isDone()) {
                            return; // aborted: the reader that gave up already failed it
                        }
                        int n = in.read(buf, 0, (int) Math.min(buf.length, len - got));
                        if (n < 0) {
                            throw new IOException(key + " has only " + (off + got) + " bytes, the manifest says "
                                    + size);
                        }
                        h.update(buf, 0, n);
                        ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                        long pos = off + got;
                        while (bb.hasRemaining()) {
                            pos += out.write(bb, pos);
                        }
                        got += n;
                        advance(off + got);
                    }
                } finally {
                    current = null;
                }
                off += len;
                range = Math.min(range * 2, MAX_RANGE);
            }
            Checksum actual = h.finish();
            if (!actual.equals(entry.hash())) {
                throw new ChecksumMismatchException(key.toString(), entry.hash(), actual);
            }
        } catch (Throwable t) {
            fail(t);
            return;
        }
        try {
            done.complete(cache.adoptVerified(entry.hash(), tmp));
        } catch (Throwable t) {
            fail(t);
        } finally {
            signal();
        }
    }

    private void fail(Throwable t) {
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // the temporary folder is swept by the next cache user; the bytes are never adopted
        }
        done.completeExceptionally(t);
        signal();
    }

    private void advance(long to) {
        available = to;
        lastProgress = System.nanoTime();
        signal();
    }

    private void signal() {
        synchronized (progress) {
            progress.notifyAll();
        }
    }

    /** Gives up on a stalled fetch: readers get EIO, the bytes are dropped, the next open retries. */
    void abort(IOException why) {
        if (done.completeExceptionally(why)) {
            InputStream in = current;
            if (in != null) {
                try {
                    in.close(); // unblocks a read stuck on a socket, for sources that allow it
                } catch (IOException ignored) {
                    // closing is best effort; the fetch thread notices done and stops
                }
            }
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
        while (available < end && !done.isDone()) {
            waitForProgress();
        }
        failure();
    }

    /** Waits until the object is verified and in the cache, and returns its path. */
    Path awaitDone() throws IOException {
        long finishDeadline = 0;
        while (!done.isDone()) {
            if (available < entry.size()) {
                waitForProgress();
            } else {
                long now = System.nanoTime();
                if (finishDeadline == 0) {
                    finishDeadline = now + FINISH_TIMEOUT_NANOS;
                } else if (now > finishDeadline) {
                    abort(new IOException("verifying " + key + " took too long"));
                }
                waitOn(TimeUnit.SECONDS.toNanos(1));
            }
        }
        failure();
        return done.getNow(null);
    }

    private void waitForProgress() throws IOException {
        long since = System.nanoTime() - lastProgress;
        if (since >= stallNanos) {
            abort(new IOException("no data from " + key + " for " + TimeUnit.NANOSECONDS.toSeconds(since)
                    + " s (gave up; the next read retries)"));
            return;
        }
        waitOn(stallNanos - since);
    }

    private void waitOn(long nanos) throws IOException {
        synchronized (progress) {
            if (done.isDone()) {
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

    /** Throws the fetch's failure, if it failed. */
    void failure() throws IOException {
        if (done.isCompletedExceptionally()) {
            try {
                done.get(0, TimeUnit.NANOSECONDS);
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                throw new ReportedException("'" + entry.logicalKey() + "': " + c.getMessage(), c);
            } catch (InterruptedException | TimeoutException e) {
                throw new IOException(e);
            }
        }
    }

    boolean failed() {
        return done.isCompletedExceptionally();
    }
}
