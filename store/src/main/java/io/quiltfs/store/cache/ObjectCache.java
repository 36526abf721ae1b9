package io.quiltfs.store.cache;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.state.AtomicFile;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.LocalProcess;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The content-addressed object cache of a home, shared by every process using it. An object
 * becomes visible only after its content was verified against the checksum it is stored under,
 * written to a temporary file and renamed into place; objects are read-only.
 *
 * <p>Re-verifying a large object on every use would cost as much as reading it, so verification
 * leaves a stamp (inode, ctime, mtime, size, and the kernel's boot id) beside it: a later lookup
 * whose stat still matches the stamp trusts the object, anything else (a write, a chmod, a
 * replaced file all change the ctime) re-hashes it, and an object whose content no longer
 * matches is deleted and treated as absent.
 *
 * <p>Objects are not fsync'ed. Within one boot the page cache is the truth for every process,
 * so an object that was verified stays what it was; only a crash of the kernel can lose
 * unwritten data, and that means a new boot, whose id no stamp carries, so every object is
 * re-verified on its first use after a reboot. The cache is derived data (every object can be
 * fetched again), and an fsync per object cost ten times the write of a small one (measured:
 * 3.8 ms against 0.3 ms per 100 KiB object with the folder sync). Where no boot id can be read,
 * or with {@code -Dquiltfs.cache.fsync=true}, objects are fsync'ed as before.
 * Concurrent puts of one object from many threads or processes are safe: each writes its own
 * temporary file and the renames are atomic and carry identical content.
 */
public final class ObjectCache {
    private static final Logger log = LoggerFactory.getLogger(ObjectCache.class);

    private final Home home;

    public ObjectCache(Home home) throws IOException {
        this.home = home.ensure();
    }

    public Home home() {
        return home;
    }

    /** Where the object with this checksum lives (whether or not it is there). */
    public Path path(Checksum sum) {
        return home.object(sum);
    }

    /** The object's path when it is present and verified; null (after removing it) when corrupt. */
    public Path lookup(Checksum sum) throws IOException {
        if (!sum.isWellFormed()) {
            return null;
        }
        Path p = path(sum);
        Stat st = Stat.of(p);
        if (st == null) {
            return null;
        }
        if (st.size() >= STAMP_MIN_SIZE && st.equals(readStamp(sum))) {
            return p;
        }
        Checksum actual;
        try {
            actual = FileHasher.hash(p, sum.type());
        } catch (NoSuchFileException removed) {
            return null; // removed (evicted) by another process while being re-verified: absent
        }
        if (!actual.equals(sum)) {
            log.warn("cached object {} is corrupt (its content hashes to {}); removing it", p, actual);
            Files.deleteIfExists(p);
            Files.deleteIfExists(stampPath(sum));
            return null;
        }
        writeStamp(sum, p);
        return p;
    }

    /** Present, without verifying (for listings and eviction bookkeeping). */
    public boolean exists(Checksum sum) {
        return sum.isWellFormed() && Files.isRegularFile(path(sum));
    }


    /**
     * A new empty temporary file on the cache's file system, named after this process
     * ({@code p<pid>-<hint>-<random>.part}), so that {@link #sweepAbandoned} can tell the files of
     * a process that was killed from those of one still at work.
     */
    public Path newTemp(String hint) throws IOException {
        String prefix = "p" + LocalProcess.PID + "-" + hint.replaceAll("[^A-Za-z0-9._-]", "_") + "-";
        try {
            return Files.createTempFile(home.tmp(), prefix, ".part");
        } catch (NoSuchFileException gone) {
            Files.createDirectories(home.tmp()); // deleted under a running process (see adoptVerified)
            return Files.createTempFile(home.tmp(), prefix, ".part");
        }
    }

    /**
     * Deletes the temporary files that killed processes left behind (a commit or fetch stopped
     * half-way): those of a process that no longer runs, and unnamed ones older than a day.
     * Returns how many were deleted.
     */
    public int sweepAbandoned() {
        int n = 0;
        long dayAgo = System.currentTimeMillis() - java.util.concurrent.TimeUnit.DAYS.toMillis(1);
        try (java.nio.file.DirectoryStream<Path> s = Files.newDirectoryStream(home.tmp(), "*.part")) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                int dash = name.indexOf('-');
                long pid = -1;
                if (name.startsWith("p") && dash > 1) {
                    try {
                        pid = Long.parseLong(name.substring(1, dash));
                    } catch (NumberFormatException e) {
                        pid = -1;
                    }
                }
                boolean abandoned = pid > 0 ? LocalProcess.ended(pid)
                        : Files.getLastModifiedTime(p).toMillis() < dayAgo;
                if (abandoned && Files.deleteIfExists(p)) {
                    n++;
                }
            }
        } catch (java.nio.file.NoSuchFileException e) {
            return n;
        } catch (IOException e) {
            log.debug("cannot sweep {}: {}", home.tmp(), e.getMessage());
        }
        return n;
    }

    /**
     * Moves a finished temporary file into the cache under {@code expected} after verifying it
     * (size and hash). On mismatch the temporary file is deleted and the exception names
     * {@code what}.
     */
    public Path adopt(Checksum expected, long expectedSize, Path tmp, String what) throws IOException {
        try {
            long size = Files.size(tmp);
            if (expectedSize >= 0 && size != expectedSize) {
                throw new ChecksumMismatchException(what, expectedSize, size);
            }
            Checksum actual = FileHasher.hash(tmp, expected.type());
            if (!actual.equals(expected)) {
                throw new ChecksumMismatchException(what, expected, actual);
            }
            return adoptVerified(expected, tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Moves a temporary file whose content the caller has just verified into the cache. */
    public Path adoptVerified(Checksum sum, Path tmp) throws IOException {
        Path target = path(sum);
        Files.setPosixFilePermissions(tmp, READ_ONLY);
        if (Stat.BOOT_ID.isEmpty()) {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
        }
        try {
            moveIn(tmp, target);
        } catch (NoSuchFileException e) {
            if (!Files.isRegularFile(tmp) || Files.isDirectory(target.getParent())) {
                throw e;
            }
            // The objects folder was deleted under this process (a user making room while a
            // mount runs): the cache is derived data, so it is made again rather than every
            // later fetch failing until a restart.
            Files.createDirectories(target.getParent());
            moveIn(tmp, target);
        }
        writeStamp(sum, target);
        return target;
    }

    private static void moveIn(Path tmp, Path target) throws IOException {
        if (Stat.BOOT_ID.isEmpty()) {
            AtomicFile.moveIntoPlace(tmp, target);
        } else {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Makes {@code file}, whose content the caller has just verified as {@code sum}, an object of
     * the cache without copying it: a hard link, where the file system and its permissions allow
     * one (else nothing happens and false is returned). Only for files nobody rewrites in place,
     * such as a local registry's data objects (a registry never overwrites them). The file's
     * size and modification time from before the verification ({@code before}) must still hold,
     * or the link is not kept. The file's mode is left alone: it is not ours.
     */
    public boolean linkVerified(Checksum sum, Path file, java.nio.file.attribute.BasicFileAttributes before) {
        Path target = path(sum);
        try {
            Files.createLink(target, file);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            log.debug("cannot link {} into the cache: {}", file, e.toString());
            return false;
        }
        try {
            var now = Files.readAttributes(target, java.nio.file.attribute.BasicFileAttributes.class);
            if (now.size() != before.size() || !now.lastModifiedTime().equals(before.lastModifiedTime())) {
                Files.deleteIfExists(target);
                return false;
            }
            writeStamp(sum, target);
            return true;
        } catch (IOException e) {
            log.debug("cannot stamp {}: {}", target, e.toString());
            return true; // linked; without a stamp it is verified on use
        }
    }

    private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> READ_ONLY =
            PosixFilePermissions.fromString("r--r--r--");

    /** Copies a local file into the cache, verifying it against {@code expected}. */
    public Path putFile(Checksum expected, Path src) throws IOException {
        Path have = lookup(expected);
        if (have != null) {
            return have;
        }
        Path tmp = newTemp(expected.type().name());
        Files.copy(src, tmp, StandardCopyOption.REPLACE_EXISTING);
        return adopt(expected, -1, tmp, src.toString());
    }

    /**
     * Hashes a local file and stores it: the checksum is computed from the copy that enters the
     * cache, so a file changing meanwhile cannot give a wrong hash; if the source's size or
     * modification time changed during the copy, throws {@link ConcurrentModificationException}.
     */
    public Checksum add(Path src, HashType type) throws IOException {
        Stat before = Stat.of(src);
        if (before == null) {
            throw new NoSuchFileException(src.toString());
        }
        Path tmp = newTemp(type.name());
        try {
            Files.copy(src, tmp, StandardCopyOption.REPLACE_EXISTING);
            Stat after = Stat.of(src);
            if (after == null || after.size != before.size || after.mtime != before.mtime
                    || Files.size(tmp) != before.size) {
                throw new ConcurrentModificationException(src);
            }
            Checksum sum = FileHasher.hash(tmp, type);
            if (lookup(sum) == null) {
                adoptVerified(sum, tmp);
            }
            return sum;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Removes an object (eviction); open readers keep their file descriptor. */
    public void remove(Checksum sum) throws IOException {
        Files.deleteIfExists(path(sum));
        Files.deleteIfExists(stampPath(sum));
    }

    private Path stampPath(Checksum sum) {
        return home.stamps().resolve(Home.objectName(sum));
    }

    private Stat readStamp(Checksum sum) {
        try {
            return Stat.parse(Files.readString(stampPath(sum), StandardCharsets.US_ASCII));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Objects smaller than this get no stamp and are re-hashed on every lookup: hashing a small
     * object costs about what creating its stamp file does (measured on ext4: creating files is
     * what dominated installs of many small objects), and it keeps such objects' checks exact.
     */
    static final long STAMP_MIN_SIZE = 1 << 20;

    private void writeStamp(Checksum sum, Path p) throws IOException {
        Stat st = Stat.of(p);
        if (st != null && st.size() >= STAMP_MIN_SIZE) {
            // A stamp is written in place, neither atomically nor durably: a torn or lost stamp
            // fails to match and only costs a re-hash. (A temporary file and a rename per stamp
            // made ext4 allocate and free an inode per object: most of an install's system time.)
            if (st.equals(readStamp(sum))) {
                return;
            }
            try {
                Files.writeString(stampPath(sum), st.format(), StandardCharsets.US_ASCII);
            } catch (NoSuchFileException gone) {
                Files.createDirectories(home.stamps()); // deleted under this process (see adoptVerified)
                Files.writeString(stampPath(sum), st.format(), StandardCharsets.US_ASCII);
            }
        }
    }

    /** A file that changed while it was being read. */
    public static final class ConcurrentModificationException extends IOException {
        public ConcurrentModificationException(Path p) {
            super(p + " changed while it was being hashed; nothing was recorded for it (try again once it is written)");
        }
    }

    /** The identity of a file's current content as the kernel reports it, in this boot. */
    record Stat(long ino, long ctime, long mtime, long size, String boot) {
        /**
         * This boot's id; "" when the kernel does not say or when {@code -Dquiltfs.cache.fsync=true}
         * asks for durable objects (then every object is fsync'ed and stamps outlive reboots).
         */
        static final String BOOT_ID = Boolean.getBoolean("quiltfs.cache.fsync") ? ""
                : java.util.Objects.requireNonNullElse(LocalProcess.bootId(), "");

        static Stat of(Path p) throws IOException {
            Map<String, Object> a;
            try {
                a = Files.readAttributes(p, "unix:ino,ctime,lastModifiedTime,size");
            } catch (NoSuchFileException e) {
                return null;
            }
            return new Stat((Long) a.get("ino"),
                    toNanos((java.nio.file.attribute.FileTime) a.get("ctime")),
                    toNanos((java.nio.file.attribute.FileTime) a.get("lastModifiedTime")),
                    (Long) a.get("size"), BOOT_ID);
        }

        private static long toNanos(java.nio.file.attribute.FileTime t) {
            return t.to(java.util.concurrent.TimeUnit.NANOSECONDS);
        }

        String format() {
            return ino + " " + ctime + " " + mtime + " " + size + " " + boot;
        }

        static Stat parse(String s) {
            String[] f = s.trim().split(" ");
            return new Stat(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
                    f.length > 4 ? f[4] : "");
        }
    }
}
