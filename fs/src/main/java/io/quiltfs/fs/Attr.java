package io.quiltfs.fs;

/**
 * What getattr reports for one path: a folder or a file, its size, permission bits and times
 * (seconds since the epoch). {@code row} is the manifest row of a file, -1 for a folder.
 */
public record Attr(boolean directory, long size, int mode, long mtime, int row) {
    /** The file type bits of st_mode. */
    public static final int S_IFDIR = 0040000;
    public static final int S_IFREG = 0100000;

    /** st_mode: type and permission bits. */
    public int stMode() {
        return (directory ? S_IFDIR : S_IFREG) | mode;
    }
}
