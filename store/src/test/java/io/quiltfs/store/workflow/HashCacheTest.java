package io.quiltfs.store.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.workflow.WorkingFiles.FileStat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hash cache's racy-entry rule (git's racy-git): a file whose change stamp is not safely
 * older than the moment its bytes were read may still change within the same tick of the file
 * clock without its stamp moving, so its hash is not trusted later.
 */
class HashCacheTest {
    private static final long TICK = 20_000_000L;
    private static final HashType TYPE = HashType.SHA2_256_CHUNKED;

    @TempDir
    Path tmp;

    /**
     * A working folder on a file system whose change stamp never moves within the test, as two
     * writes within one tick of the kernel's file clock leave it: deterministic, where a real
     * same-tick rewrite is a race against the clock.
     */
    private static WorkingFiles frozenStamp(Path root, long stamp) {
        WorkFolder real = new WorkFolder(root);
        return new WorkingFiles() {
            private FileStat frozen(FileStat s) {
                return s == null ? null : new FileStat(s.size(), s.mtimeNanos(), s.inode(), stamp);
            }

            @Override
            public Map<String, FileStat> scan() throws IOException {
                Map<String, FileStat> m = new java.util.HashMap<>();
                real.scan().forEach((k, s) -> m.put(k, frozen(s)));
                return m;
            }

            @Override
            public FileStat stat(String key) throws IOException {
                return frozen(real.stat(key));
            }

            @Override
            public Path path(String key) {
                return real.path(key);
            }

            @Override
            public FileStat place(String key, Path source) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void delete(String key) {
                throw new UnsupportedOperationException();
            }

            @Override
            public String describe() {
                return root.toString();
            }
        };
    }

    private static void rewrite(Path p, String s, FileTime mtime) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
        }
        Files.setLastModifiedTime(p, mtime);
    }

    /**
     * The brief's case: a file changed, a status within the same tick, then a same-size rewrite
     * with its mtime set back, still within that tick: the second status must hash again (a
     * commit would otherwise record the hash of bytes the file no longer holds). Once the clock
     * has moved a tick past the stamp, the file is hashed once more and then trusted.
     */
    @Test
    void aFileChangedWithinATickOfTheReadIsHashedAgain() throws IOException {
        Path root = Files.createDirectories(tmp.resolve("work"));
        Path f = root.resolve("f.txt");
        Files.writeString(f, "aaaa");
        FileTime t = Files.getLastModifiedTime(f);
        long stamp = 1_700_000_000_123_456_789L;
        AtomicLong clock = new AtomicLong(stamp + TICK / 2);
        HashCache cache = HashCache.load(tmp.resolve("hc"), clock::get, TICK);
        WorkingFiles files = frozenStamp(root, stamp);
        AtomicInteger hashed = new AtomicInteger();
        Status.KeyHasher counting = (keys, type) -> {
            hashed.addAndGet(keys.size());
            return Status.plain(files).hash(keys, type);
        };
        Manifest empty = Manifest.builder().build();

        Status.Changes c = Status.changes(files, empty, PathFilter.ALL, cache, TYPE, counting);
        assertEquals(FileHasher.hash(f, TYPE), c.hashes().get("f.txt"));
        cache.save();

        rewrite(f, "bbbb", t);
        assertEquals(t, Files.getLastModifiedTime(f));
        cache = HashCache.load(tmp.resolve("hc"), clock::get, TICK);
        c = Status.changes(files, empty, PathFilter.ALL, cache, TYPE, counting);
        assertEquals(FileHasher.hash(f, TYPE), c.hashes().get("f.txt"), "the hash of the bytes the file holds now");
        assertEquals(2, hashed.get());

        // A tick later the stamp is safely older than the read: hashed once more, then trusted.
        clock.set(stamp + TICK + 1);
        cache.save();
        cache = HashCache.load(tmp.resolve("hc"), clock::get, TICK);
        Status.changes(files, empty, PathFilter.ALL, cache, TYPE, counting);
        assertEquals(3, hashed.get());
        cache.save();
        cache = HashCache.load(tmp.resolve("hc"), clock::get, TICK);
        c = Status.changes(files, empty, PathFilter.ALL, cache, TYPE, counting);
        assertEquals(3, hashed.get(), "a file older than a tick is not hashed again");
        assertEquals(FileHasher.hash(f, TYPE), c.hashes().get("f.txt"));
    }

    /**
     * What an install records (the hash of what it wrote) is kept when it is older than a tick
     * at the moment the cache is saved; a younger entry makes the save wait out the tick when
     * that is short, and is dropped (hashed again later) when its stamp is further ahead.
     */
    @Test
    void aSaveNeverRecordsAStampWithinATickOfItsMoment() throws IOException {
        Path file = tmp.resolve("hc");
        Checksum sum = Checksum.of(TYPE, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        long now = 1_700_000_000_000_000_001L;
        AtomicLong clock = new AtomicLong(now);
        HashCache c = HashCache.load(file, clock::get, TICK);
        FileStat old = new FileStat(1, 2, 3, now - TICK - 1);
        FileStat young = new FileStat(1, 2, 4, now - TICK / 2);
        FileStat ahead = new FileStat(1, 2, 5, now + 60_000_000_000L);
        c.put("old", old, sum);
        c.put("young", young, sum);
        c.put("ahead", ahead, sum);
        c.save();
        HashCache r = HashCache.load(file, clock::get, TICK);
        assertEquals(sum, r.lookup("old", old, TYPE));
        assertEquals(sum, r.lookup("young", young, TYPE), "the save waited out the tick");
        assertNull(r.lookup("ahead", ahead, TYPE), "a stamp ahead of the clock is not trusted");
        assertTrue(clock.get() >= now, "the clock is only read");
    }

    /**
     * A stamp of whole seconds comes from a coarse clock that may also lag a fine tick: it is
     * trusted only 2 s and a tick after it, not at 2 s.
     */
    @Test
    void aWholeSecondStampIsRacyForTwoSecondsAndATick() {
        HashCache c = HashCache.load(tmp.resolve("hc"), () -> 0, TICK);
        long stamp = 1_700_000_000_000_000_000L;
        FileStat st = new FileStat(1, stamp, 3, stamp);
        assertTrue(c.racy(st, stamp + HashCache.COARSE_TICK_NANOS + TICK / 2), "within 2 s and a tick");
        assertFalse(c.racy(st, stamp + HashCache.COARSE_TICK_NANOS + TICK + 1), "after 2 s and a tick");
        FileStat fine = new FileStat(1, stamp + 1, 3, stamp + 1);
        assertFalse(c.racy(fine, stamp + 1 + TICK + 1), "a fine stamp: a tick");
    }

    /** Stamps ahead of this machine's clock (a file server's clock ahead) are noticed (and said in the log). */
    @Test
    void noticesAStampAheadOfTheClock() {
        long now = 1_700_000_000_000_000_001L;
        HashCache c = HashCache.load(tmp.resolve("hc"), () -> now, TICK);
        c.racy(new FileStat(1, 2, 3, now - TICK / 2), now);
        c.racy(new FileStat(1, 2, 3, now + TICK / 2), now); // within a tick: the coarse clock's own jitter
        c.racy(new FileStat(1, 2, 3, Long.MIN_VALUE / 2 + 5), now); // a mount's counter, not a time
        assertFalse(c.sawClockAhead());
        c.racy(new FileStat(1, 2, 3, now + 60_000_000_000L), now);
        assertTrue(c.sawClockAhead());
    }
}
