package io.quiltfs.store.hash;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** The one place that obtains SHA-256 digests (HotSpot uses the CPU's SHA instructions). */
public final class Sha256 {
    private Sha256() {
    }

    /** A fresh digest cloned for every use: cloning skips the provider lookup (per small file). */
    private static final MessageDigest PROTOTYPE = lookup();

    private static MessageDigest lookup() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JVM has SHA-256", e);
        }
    }

    public static MessageDigest newDigest() {
        try {
            return (MessageDigest) PROTOTYPE.clone();
        } catch (CloneNotSupportedException e) {
            return lookup();
        }
    }

    /** Whole-file SHA-256 ({@code SHA256} rows). */
    static final class WholeHasher implements Hasher {
        private final MessageDigest md = newDigest();
        private long count;

        @Override
        public void update(byte[] b, int off, int len) {
            md.update(b, off, len);
            count += len;
        }

        @Override
        public long count() {
            return count;
        }

        @Override
        public Checksum finish() {
            return Checksum.ofRaw(HashType.SHA256, md.digest());
        }
    }

    /**
     * {@code sha2-256-chunked} over a stream of known total size: each chunk's digest is fed to
     * an outer digest as the chunk completes, so memory stays bounded.
     */
    static final class ChunkedHasher implements Hasher {
        private final MessageDigest inner = newDigest();
        private final MessageDigest outer = newDigest();
        private final long chunkSize;
        private long inChunk;
        private long count;

        ChunkedHasher(long totalSize) {
            this.chunkSize = ChunkSize.forSize(Math.max(0, totalSize));
        }

        @Override
        public void update(byte[] b, int off, int len) {
            count += len;
            while (len > 0) {
                int n = (int) Math.min(len, chunkSize - inChunk);
                inner.update(b, off, n);
                inChunk += n;
                off += n;
                len -= n;
                if (inChunk == chunkSize) {
                    outer.update(inner.digest());
                    inChunk = 0;
                }
            }
        }

        @Override
        public long count() {
            return count;
        }

        @Override
        public Checksum finish() {
            if (inChunk > 0) {
                outer.update(inner.digest());
            }
            // The empty file has no chunks: its value is sha256("") itself.
            return Checksum.ofRaw(HashType.SHA2_256_CHUNKED, outer.digest());
        }
    }
}
