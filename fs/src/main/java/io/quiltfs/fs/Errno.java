package io.quiltfs.fs;

import io.quiltfs.store.cache.ChecksumMismatchException;
import java.nio.file.NoSuchFileException;

/**
 * The errno values the mount returns (Linux numbering: FUSE is Linux-only here), and the one
 * mapping from a failure to an errno.
 */
public enum Errno {
    EPERM(1), ENOENT(2), EIO(5), EBADF(9), EACCES(13), EBUSY(16), EEXIST(17), EXDEV(18), ENOTDIR(20), EISDIR(21),
    EINVAL(22), ENOSPC(28), EROFS(30), ERANGE(34), ENAMETOOLONG(36), ENOSYS(38), ENOTEMPTY(39), ENODATA(61), ENOTSUP(95), EDQUOT(122);

    private final int value;

    Errno(int value) {
        this.value = value;
    }

    /** The positive errno number. */
    public int value() {
        return value;
    }

    /** What FUSE expects a failed callback to return. */
    public int negated() {
        return -value;
    }

    /**
     * The errno for any failure: a filesystem answer keeps its own, a missing local file is
     * ENOENT, a full disk (or quota) under the home is ENOSPC (EDQUOT), so that a program says
     * why its write failed; everything else (network, checksum mismatch, timeout, a bug) is EIO.
     */
    public static Errno of(Throwable t) {
        if (t instanceof FsException f) {
            return f.errno();
        }
        if (t instanceof NoSuchFileException) {
            return ENOENT;
        }
        if (t instanceof ChecksumMismatchException) {
            return EIO;
        }
        if (t instanceof java.io.IOException) {
            // The JDK reports a failed write(2) with strerror's text only (a failed open, copy or
            // create as a FileSystemException's reason): English, as the daemon runs with C
            // messages (MountCommand).
            String m = t instanceof java.nio.file.FileSystemException f ? f.getReason() : t.getMessage();
            if ("No space left on device".equals(m)) {
                return ENOSPC;
            }
            if ("Disk quota exceeded".equals(m)) {
                return EDQUOT;
            }
        }
        return EIO;
    }
}
