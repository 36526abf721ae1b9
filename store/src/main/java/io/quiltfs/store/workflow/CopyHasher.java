package io.quiltfs.store.workflow;

import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.workflow.WorkingFiles.FileStat;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Stores a working file in the object cache reading it once: the bytes are hashed as they are
 * copied ({@link FileHasher#copy}), so the checksum is that of the copy that enters the cache. If
 * the file's stat changed during the copy, or it shrank, nothing is stored and
 * {@link ObjectCache.ConcurrentModificationException} says so.
 */
final class CopyHasher {
    private CopyHasher() {
    }

    /** The checksum of {@code key}'s content, now in the cache. */
    static Checksum store(ObjectCache cache, WorkingFiles files, String key, HashType type) throws IOException {
        return files.read(key, src -> store(cache, files, key, type, src));
    }

    private static Checksum store(ObjectCache cache, WorkingFiles files, String key, HashType type, Path src)
            throws IOException {
        FileStat before = files.stat(key);
        if (before == null) {
            throw new NoSuchFileException(src.toString());
        }
        Path tmp = cache.newTemp(type.name());
        try {
            Checksum sum;
            try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ);
                 FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                sum = FileHasher.copy(in, out, before.size(), type);
                if (in.size() != before.size()) {
                    throw new ObjectCache.ConcurrentModificationException(src);
                }
            } catch (ObjectCache.ConcurrentModificationException e) {
                throw e;
            } catch (IOException e) {
                // A file that shrank under the copy fails it: say what happened when it changed.
                if (!before.equals(files.stat(key))) {
                    throw new ObjectCache.ConcurrentModificationException(src);
                }
                throw e;
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
}
