package io.quiltfs.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** Sizes and deadlines of a mount: the object cache's limit and how long a fetch may stall. */
public record MountSettings(long cacheBytes, long stallMillis) {
    /** A fetch that delivers nothing for this long fails with EIO. */
    public static final long DEFAULT_STALL_MILLIS = 30_000;
    /** How long after a failed fetch a read of the same descriptor gets the same EIO (see ObjectStore). */
    public static final long RETRY_PAUSE_MILLIS = 1_000;

    /** A quarter of the file system holding the cache: room for real work, never the whole disk. */
    public static long defaultCacheBytes(Path objects) throws IOException {
        Path p = objects;
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        return Files.getFileStore(p == null ? objects.getRoot() : p).getTotalSpace() / 4;
    }

    /** Parses {@code 500M}, {@code 10G}, {@code 1T}, {@code 2GiB}, {@code 4096} (binary units). */
    public static long parseSize(String s) {
        String t = s.trim().toUpperCase(Locale.ROOT);
        if (t.endsWith("IB")) {
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("B")) {
            t = t.substring(0, t.length() - 1);
        }
        long mult = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'K' -> mult = 1L << 10;
                case 'M' -> mult = 1L << 20;
                case 'G' -> mult = 1L << 30;
                case 'T' -> mult = 1L << 40;
                default -> { }
            }
            if (mult != 1) {
                t = t.substring(0, t.length() - 1);
            }
        }
        try {
            double v = Double.parseDouble(t);
            if (v <= 0 || Double.isNaN(v) || Double.isInfinite(v) || !t.matches("[0-9.]+")) {
                throw new NumberFormatException();
            }
            return (long) (v * mult);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid size '" + s + "' (expected e.g. 500M, 10G, 1T)");
        }
    }
}
