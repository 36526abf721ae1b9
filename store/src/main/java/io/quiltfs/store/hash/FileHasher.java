package io.quiltfs.store.hash;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveTask;

/**
 * Hashes files. {@code sha2-256-chunked} hashes its chunks in parallel on every core (chunks are
 * independent); the other types stream the file once. Many files are hashed in parallel too.
 * All work runs on one fork-join pool sized to the machine, so nested parallelism (many files,
 * each with many chunks) neither deadlocks nor oversubscribes the CPU.
 */
public final class FileHasher {
    private static final int BUFFER = 1 << 20;
    /**
     * The read buffer of a chunk: direct, so that a read is one copy from the page cache (a heap
     * buffer costs a second copy through the JDK's temporary direct buffer), and small enough to
     * stay in the core's L2 cache while the digest consumes it (measured: 128 KiB direct costs
     * about 8% less CPU per GiB than 1 MiB heap).
     */
    private static final int CHUNK_BUFFER = 128 * 1024;
    /** Numbers the pool's threads (a worker's pool index is not assigned yet when it is named). */
    private static final java.util.concurrent.atomic.AtomicInteger THREADS = new java.util.concurrent.atomic.AtomicInteger();
    private static final ForkJoinPool POOL = new ForkJoinPool(
            Math.max(2, Runtime.getRuntime().availableProcessors()),
            pool -> {
                var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                t.setName("quiltfs-hash-" + THREADS.getAndIncrement());
                t.setDaemon(true);
                return t;
            }, null, false);
    private static final ThreadLocal<byte[]> BUFFERS = ThreadLocal.withInitial(() -> new byte[BUFFER]);
    /** Only the pool's own (long-lived) threads keep a direct buffer: direct memory is freed late. */
    private static final ThreadLocal<ByteBuffer> DIRECT = ThreadLocal.withInitial(
            () -> ByteBuffer.allocateDirect(CHUNK_BUFFER));

    private FileHasher() {
    }

    /** The checksum of a whole file. */
    public static Checksum hash(Path file, HashType type) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return hash(ch, ch.size(), type);
        }
    }

    /**
     * The checksum of a stream read to its end (standard input, a pipe, a file whose size the
     * system does not tell): read once, in order, in bounded memory. {@code sha2-256-chunked}
     * needs the size up front to choose its chunk size, so a stream is hashed with the smallest
     * chunk and refused past the size where the chunk would grow (10,000 chunks of 8 MiB).
     */
    public static Checksum hash(java.io.InputStream in, HashType type) throws IOException {
        Hasher h = Hashers.create(type, 0);
        byte[] buf = BUFFERS.get();
        long limit = ChunkSize.MIN * ChunkSize.MAX_CHUNKS;
        for (int r; (r = in.read(buf)) >= 0; ) {
            h.update(buf, 0, r);
            if (type == HashType.SHA2_256_CHUNKED && h.count() > limit) {
                throw new IOException(String.format(java.util.Locale.ROOT, "over %,d MiB (%,d chunks of %d MiB)"
                        + " without a size known in advance: sha2-256-chunked needs the size to choose its chunk size;"
                        + " save it to a file and hash that", limit >> 20, ChunkSize.MAX_CHUNKS, ChunkSize.MIN >> 20));
            }
        }
        return h.finish();
    }

    /** The checksum of the first {@code size} bytes of an open channel (read positionally). */
    public static Checksum hash(FileChannel ch, long size, HashType type) throws IOException {
        return copy(ch, null, size, type);
    }

    /**
     * Copies the first {@code size} bytes of {@code in} to the same positions of {@code out}
     * (null: only hashes) and returns their checksum, reading each byte once: the checksum is that
     * of the bytes written. Chunks of {@code sha2-256-chunked} are copied in parallel.
     */
    public static Checksum copy(FileChannel in, FileChannel out, long size, HashType type) throws IOException {
        if (type == HashType.SHA2_256_CHUNKED) {
            return chunked(in, out, size);
        }
        Hasher h = Hashers.create(type, size);
        readRange(in, 0, size, h::update, out);
        return h.finish();
    }

    /** Hashes many files in parallel; the result list matches the input order. */
    public static List<Checksum> hashAll(List<Path> files, HashType type) throws IOException {
        List<ForkJoinTask<Checksum>> tasks = new ArrayList<>(files.size());
        for (Path f : files) {
            tasks.add(ForkJoinTask.adapt(() -> hash(f, type)));
        }
        try {
            if (ForkJoinTask.inForkJoinPool()) {
                ForkJoinTask.invokeAll(tasks);
            } else {
                POOL.submit(() -> ForkJoinTask.invokeAll(tasks)).join();
            }
            List<Checksum> out = new ArrayList<>(files.size());
            for (var t : tasks) {
                out.add(t.join());
            }
            return out;
        } catch (RuntimeException e) {
            throw unwrap(e);
        }
    }

    /** Work on one item that may fail with an {@link IOException}. */
    public interface Work<T> {
        void run(T item) throws IOException;
    }

    /**
     * Runs {@code work} on every item, in parallel on the hashing pool (a thread per core: for
     * work bound by the CPU and local files); returns when all are done, throwing the first failure.
     */
    public static <T> void forEach(java.util.Collection<T> items, Work<T> work) throws IOException {
        if (items.isEmpty()) {
            return;
        }
        // Not invokeAll: after a failure it cancels the other tasks and returns, and a cancelled
        // task that is running goes on (a placement would write after the caller reported the
        // stop). Here a failure makes the tasks not begun yet skip their work, and every task is
        // joined before the first failure is thrown.
        java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger(-1);
        List<ForkJoinTask<?>> tasks = new ArrayList<>(items.size());
        int i = 0;
        for (T item : items) {
            int index = i++;
            tasks.add(ForkJoinTask.adapt(() -> {
                if (failed.get() >= 0) {
                    return null;
                }
                try {
                    work.run(item);
                } catch (IOException | RuntimeException | Error e) {
                    failed.compareAndSet(-1, index);
                    throw e;
                }
                return null;
            }));
        }
        inPool(() -> {
            for (int k = tasks.size() - 1; k > 0; k--) {
                tasks.get(k).fork();
            }
            tasks.get(0).quietlyInvoke();
            for (var t : tasks) {
                t.quietlyJoin();
            }
            int first = failed.get();
            if (first >= 0) {
                tasks.get(first).join(); // throws it
            }
            for (var t : tasks) {
                t.join();
            }
            return null;
        });
    }

    /**
     * Starts {@code task} on the hashing pool and returns at once (the task reports its own end);
     * for callers that keep the pool busy one task at a time.
     */
    public static void execute(Runnable task) {
        POOL.execute(task);
    }

    /** How many threads the hashing pool runs. */
    public static int parallelism() {
        return POOL.getParallelism();
    }

    /** Runs {@code task} on the hashing pool (so that nested hashing shares the pool). */
    public static <T> T inPool(java.util.concurrent.Callable<T> task) throws IOException {
        try {
            return ForkJoinTask.inForkJoinPool() ? task.call() : POOL.submit(task).join();
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw unwrap(e);
        }
    }

    private static Checksum chunked(FileChannel ch, FileChannel out, long size) throws IOException {
        long chunk = ChunkSize.forSize(size);
        int n = (int) ChunkSize.ceilDiv(size, chunk);
        MessageDigest outer = Sha256.newDigest();
        if (n <= 1) {
            byte[] one = n == 1 ? digestRange(ch, 0, size, out) : new byte[0];
            outer.update(one);
            Checksum sum = Checksum.ofRaw(HashType.SHA2_256_CHUNKED, outer.digest());
            ChunkDigests.remember(sum.value(), one);
            return sum;
        }
        byte[][] digests = digestParts(ch, size, chunk, out);
        byte[] all = new byte[n * 32];
        for (int i = 0; i < n; i++) {
            outer.update(digests[i]);
            System.arraycopy(digests[i], 0, all, i * 32, 32);
        }
        Checksum sum = Checksum.ofRaw(HashType.SHA2_256_CHUNKED, outer.digest());
        ChunkDigests.remember(sum.value(), all);
        return sum;
    }

    /**
     * The SHA-256 of each {@code partSize} part of a file of {@code size} bytes (one part, the
     * SHA-256 of nothing, for the empty file), for S3's per-part checksums. When {@code sum} is
     * the file's {@code sha2-256-chunked} checksum and the parts are its chunks, the digests come
     * from what this process computed for {@code sum} (no second read) and otherwise from the
     * file, then they must reproduce {@code sum}: an IOException says the file no longer holds
     * the content {@code sum} names. A {@code SHA256} checksum of a file in one part is its own
     * digest.
     */
    public static byte[][] partDigests(Path file, long size, long partSize, Checksum sum) throws IOException {
        int n = (int) Math.max(1, ChunkSize.ceilDiv(size, partSize));
        boolean chunks = sum.type() == HashType.SHA2_256_CHUNKED && size > 0
                && (partSize == ChunkSize.forSize(size) || (n == 1 && ChunkSize.count(size) == 1));
        if (chunks) {
            byte[][] known = ChunkDigests.of(sum);
            if (known != null && known.length == n) {
                return known;
            }
        } else if (sum.type() == HashType.SHA256 && n == 1 && sum.isWellFormed()) {
            return new byte[][] {sum.raw()};
        }
        byte[][] out;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() != size) {
                throw new IOException(file + " is " + ch.size() + " bytes, expected " + size + " (it changed since it was hashed)");
            }
            out = digestParts(ch, size, partSize, null);
        }
        if (chunks) {
            MessageDigest outer = Sha256.newDigest();
            for (byte[] d : out) {
                outer.update(d);
            }
            if (!Checksum.ofRaw(HashType.SHA2_256_CHUNKED, outer.digest()).equals(sum)) {
                throw new IOException(file + " no longer holds the content of its checksum " + sum.value()
                        + " (it changed since it was hashed)");
            }
        }
        return out;
    }

    /**
     * The SHA-256 of each {@code part}-byte range of the first {@code size} bytes (at least one
     * range), in parallel on the pool, copying them to {@code out} (may be null) on the way.
     */
    private static byte[][] digestParts(FileChannel ch, long size, long part, FileChannel out) throws IOException {
        int n = (int) Math.max(1, ChunkSize.ceilDiv(size, part));
        List<RecursiveTask<byte[]>> tasks = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long start = i * part;
            long len = Math.max(0, Math.min(part, size - start));
            tasks.add(new RecursiveTask<>() {
                @Override
                protected byte[] compute() {
                    try {
                        return digestRange(ch, start, len, out);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            });
        }
        byte[][] digests = new byte[n][];
        try {
            if (ForkJoinTask.inForkJoinPool()) {
                ForkJoinTask.invokeAll(tasks);
            } else {
                POOL.submit(() -> ForkJoinTask.invokeAll(tasks)).join();
            }
            for (int i = 0; i < n; i++) {
                digests[i] = tasks.get(i).join();
            }
        } catch (RuntimeException e) {
            throw unwrap(e);
        }
        return digests;
    }

    private static byte[] digestRange(FileChannel ch, long start, long len, FileChannel out) throws IOException {
        MessageDigest md = Sha256.newDigest();
        if (!(Thread.currentThread() instanceof ForkJoinWorkerThread w) || w.getPool() != POOL) {
            readRange(ch, start, len, md::update, out);
            return md.digest();
        }
        ByteBuffer bb = DIRECT.get();
        long pos = start;
        long end = start + len;
        while (pos < end) {
            bb.clear().limit((int) Math.min(bb.capacity(), end - pos));
            int r = ch.read(bb, pos);
            if (r < 0) {
                throw shrank(start, len);
            }
            bb.flip();
            md.update(bb);
            if (out != null) {
                writeFully(out, bb.rewind(), pos);
            }
            pos += r;
        }
        return md.digest();
    }

    private static IOException shrank(long start, long len) {
        return new IOException("file shrank while it was being hashed (expected " + len
                + " bytes from offset " + start + ")");
    }

    private interface Sink {
        void accept(byte[] b, int off, int len);
    }

    private static void readRange(FileChannel ch, long start, long len, Sink sink, FileChannel out)
            throws IOException {
        byte[] buf = BUFFERS.get();
        ByteBuffer bb = ByteBuffer.wrap(buf);
        long pos = start;
        long end = start + len;
        while (pos < end) {
            bb.clear().limit((int) Math.min(buf.length, end - pos));
            int r = ch.read(bb, pos);
            if (r < 0) {
                throw shrank(start, len);
            }
            sink.accept(buf, 0, r);
            if (out != null) {
                writeFully(out, ByteBuffer.wrap(buf, 0, r), pos);
            }
            pos += r;
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer bb, long pos) throws IOException {
        for (long at = pos; bb.hasRemaining(); ) {
            at += out.write(bb, at);
        }
    }

    private static IOException unwrap(Exception e) {
        Throwable t = e;
        while ((t instanceof RuntimeException) && t.getCause() != null && t != t.getCause()) {
            if (t instanceof UncheckedIOException u) {
                return u.getCause();
            }
            t = t.getCause();
        }
        if (t instanceof IOException io) {
            return io;
        }
        if (t instanceof RuntimeException re) {
            throw re;
        }
        return new IOException(t);
    }
}
