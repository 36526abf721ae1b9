package io.quiltfs.store.workflow;

import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.ChunkSize;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.hash.Hasher;
import io.quiltfs.store.hash.Hashers;
import io.quiltfs.store.hash.Sha256;
import io.quiltfs.store.workflow.WorkingFiles.FileStat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RecursiveTask;

/**
 * Stores a working file in the object cache reading it once: the bytes are hashed as they are
 * copied ({@code sha2-256-chunked}: chunks copied and hashed in parallel), so the checksum is
 * that of the copy that enters the cache. If the file's stat changed during the copy, or it
 * shrank, nothing is stored and {@link ObjectCache.ConcurrentModificationException} says so.
 */
final class CopyHasher {
    private static final int BUFFER = 1 << 20;
    private static final ThreadLocal<byte[]> BUFFERS = ThreadLocal.withInitial(() -> new byte[BUFFER]);

    private CopyHasher() {
    }

    /** The checksum of {@code key}'s content, now in the cache. */
    static Checksum store(ObjectCache cache, WorkingFiles files, String key, HashType type) throws IOException {
        Path src = files.path(key);
        FileStat before = files.stat(key);
        if (before == null) {
            throw new NoSuchFileException(src.toString());
        }
        Path tmp = cache.newTemp(type.name());
        try {
            Checksum sum;
            try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ);
                 FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                long size = before.size();
                if (type == HashType.SHA2_256_CHUNKED && ChunkSize.count(size) > 1) {
                    sum = chunked(in, out, size, src);
                } else {
                    Hasher h = Hashers.create(type, size);
                    copyRange(in, out, 0, size, h::update, src);
                    sum = h.finish();
                }
                if (in.size() != size) {
                    throw new ObjectCache.ConcurrentModificationException(src);
                }
            }
            if (!before.equals(files.stat(key))) {
                throw new ObjectCache.ConcurrentModificationException(src);
            }
            if (cache.lookup(sum) == null) {
                cache.adoptVerified(sum, tmp);
            }
            return sum;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static Checksum chunked(FileChannel in, FileChannel out, long size, Path src) throws IOException {
        long chunk = ChunkSize.forSize(size);
        int n = (int) ChunkSize.count(size);
        List<RecursiveTask<byte[]>> tasks = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long start = i * chunk;
            long len = Math.min(chunk, size - start);
            tasks.add(new RecursiveTask<>() {
                @Override
                protected byte[] compute() {
                    try {
                        MessageDigest md = Sha256.newDigest();
                        copyRange(in, out, start, len, md::update, src);
                        return md.digest();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            });
        }
        return FileHasher.inPool(() -> {
            RecursiveTask.invokeAll(tasks);
            MessageDigest outer = Sha256.newDigest();
            for (var t : tasks) {
                try {
                    outer.update(t.join());
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
            }
            return Checksum.ofRaw(HashType.SHA2_256_CHUNKED, outer.digest());
        });
    }

    private interface Sink {
        void accept(byte[] b, int off, int len);
    }

    /** Copies {@code [start, start + len)} positionally, feeding every byte to {@code sink}. */
    private static void copyRange(FileChannel in, FileChannel out, long start, long len, Sink sink, Path src)
            throws IOException {
        byte[] buf = BUFFERS.get();
        long pos = start;
        long end = start + len;
        while (pos < end) {
            ByteBuffer bb = ByteBuffer.wrap(buf, 0, (int) Math.min(buf.length, end - pos));
            int r = in.read(bb, pos);
            if (r < 0) {
                throw new ObjectCache.ConcurrentModificationException(src);
            }
            sink.accept(buf, 0, r);
            bb.flip();
            long w = pos;
            while (bb.hasRemaining()) {
                w += out.write(bb, w);
            }
            pos += r;
        }
    }
}
