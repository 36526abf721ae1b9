package io.quiltfs.store.hash;

/** The chunk size of {@code sha2-256-chunked} for a file of a given size. */
public final class ChunkSize {
    /** 8 MiB: the smallest chunk. */
    public static final long MIN = 8L * 1024 * 1024;
    /** The most chunks a file may have before the chunk size doubles. */
    public static final long MAX_CHUNKS = 10_000;

    private ChunkSize() {
    }

    /** Starts at 8 MiB and doubles while {@code ceil(size / chunk) > 10000}. */
    public static long forSize(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
        long chunk = MIN;
        while (ceilDiv(size, chunk) > MAX_CHUNKS) {
            chunk *= 2;
        }
        return chunk;
    }

    /** Number of chunks of a file of this size (0 for the empty file). */
    public static long count(long size) {
        return ceilDiv(size, forSize(size));
    }

    static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
