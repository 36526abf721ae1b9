package io.quiltfs.store.hash;

import java.nio.ByteBuffer;

/**
 * A streaming checksum over bytes fed in order. Not thread-safe; one per stream.
 * Create one with {@link Hashers#create(HashType, long)}.
 */
public interface Hasher {
    void update(byte[] b, int off, int len);

    /** Consumes the buffer's remaining bytes. */
    default void update(ByteBuffer buf) {
        if (buf.hasArray()) {
            update(buf.array(), buf.arrayOffset() + buf.position(), buf.remaining());
            buf.position(buf.limit());
        } else {
            byte[] tmp = new byte[Math.min(buf.remaining(), 64 * 1024)];
            while (buf.hasRemaining()) {
                int n = Math.min(tmp.length, buf.remaining());
                buf.get(tmp, 0, n);
                update(tmp, 0, n);
            }
        }
    }

    /** Bytes consumed so far. */
    long count();

    /** The checksum of everything fed; the hasher is spent afterwards. */
    Checksum finish();
}
