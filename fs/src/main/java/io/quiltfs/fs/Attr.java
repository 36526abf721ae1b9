package io.quiltfs.fs;

/**
 * What getattr reports for one path: a folder or a file, its size, permission bits and times
 * (seconds since the epoch, and the nanoseconds past that second: a time a tool set, such as
 * {@code cp -p}'s or {@code rsync}'s, comes back whole). {@code row} is the manifest row of a
 * file, -1 for a folder.
 */
public record Attr(boolean directory, long size, int mode, long mtime, int row, int mtimeNanos) {
    /** A time in whole seconds: the revision's. */
    public Attr(boolean directory, long size, int mode, long mtime, int row) {
        this(directory, size, mode, mtime, row, 0);
    }

    /** The file type bits of st_mode. */
    public static final int S_IFDIR = 0040000;
    public static final int S_IFREG = 0100000;

    /** st_mode: type and permission bits. */
    public int stMode() {
        return (directory ? S_IFDIR : S_IFREG) | mode;
    }
}
