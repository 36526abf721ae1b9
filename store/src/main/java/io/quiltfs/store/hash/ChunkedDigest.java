package io.quiltfs.store.hash;

import java.security.MessageDigest;

/**
 * {@code sha2-256-chunked} computed from chunks that arrive in any order and on several threads
 * at once (a download in parallel ranges, one range per chunk), so a downloaded object is
 * verified off the wire without being read a second time. Bytes within one chunk must arrive in
 * order, and one chunk is fed by one thread at a time.
 */
public final class ChunkedDigest {
    private final long size;
    private final long chunkSize;
    private final MessageDigest[] chunks;
    private final long[] counts;

    public ChunkedDigest(long size) {
        this.size = size;
        this.chunkSize = ChunkSize.forSize(size);
        int n = (int) ChunkSize.count(size);
        this.chunks = new MessageDigest[n];
        this.counts = new long[n];
    }

    /** The chunk size (downloads use it as their range size). */
    public long chunkSize() {
        return chunkSize;
    }

    /** Feeds bytes of chunk {@code chunk}, which must not run past the chunk's end. */
    public void update(int chunk, byte[] b, int off, int len) {
        if (chunk < 0 || chunk >= chunks.length) {
            throw new IllegalArgumentException("chunk " + chunk + " is outside an object of " + size + " bytes");
        }
        if (chunks[chunk] == null) {
            chunks[chunk] = Sha256.newDigest();
        }
        chunks[chunk].update(b, off, len);
        counts[chunk] += len;
    }

    /** The checksum, or null when some chunk did not receive exactly its bytes. */
    public Checksum finish() {
        MessageDigest outer = Sha256.newDigest();
        for (int i = 0; i < chunks.length; i++) {
            long want = Math.min(chunkSize, size - i * chunkSize);
            if (counts[i] != want) {
                return null;
            }
            outer.update(chunks[i].digest());
        }
        return Checksum.ofRaw(HashType.SHA2_256_CHUNKED, outer.digest());
    }
}
