package io.quiltfs.store.registry;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Reads data objects by physical key. A registry is one; physical keys may also point outside
 * any registry (another bucket, a local file), which {@link Registries#sourceFor} resolves.
 * Implementations are thread-safe.
 */
public interface ObjectSource {
    /** Whether this source can read the key (its scheme, and its bucket for S3). */
    boolean canRead(PhysicalKey key);

    /**
     * A stream of {@code length} bytes from {@code offset} ({@code length < 0}: to the end).
     * Throws {@link RegistryException.NotFound} naming the key when it does not exist.
     */
    InputStream open(PhysicalKey key, long offset, long length) throws IOException;

    /** The object's size in bytes; {@link RegistryException.NotFound} when it does not exist. */
    long size(PhysicalKey key) throws IOException;

    /** A whole small object, and the key of exactly what was read (with the version the store served). */
    record Read(byte[] bytes, PhysicalKey key) {
    }

    /**
     * Reads a whole small object (a config, a schema); {@link RegistryException.NotFound} when it
     * does not exist. The returned key carries the version id the store served, if any.
     */
    default Read readAll(PhysicalKey key) throws IOException {
        try (InputStream in = open(key, 0, -1)) {
            return new Read(in.readAllBytes(), key);
        }
    }

    /** Receives a download's bytes piece by piece: in order within a piece, pieces possibly at once. */
    interface Pieces {
        void accept(int piece, byte[] b, int off, int len);
    }

    /**
     * Writes the whole object into {@code out} from position 0 and returns the number of bytes
     * written, handing every byte to {@code pieces} (may be null) by piece of {@code pieceSize}
     * bytes. {@code expectedSize} (from the manifest row) lets a source fetch pieces in parallel
     * ranges; the caller still verifies size and content. The default copies {@link #open}'s
     * stream.
     */
    default long download(PhysicalKey key, long expectedSize, long pieceSize, FileChannel out, Pieces pieces)
            throws IOException {
        long pos = 0;
        byte[] buf = new byte[1 << 20];
        try (InputStream in = open(key, 0, -1)) {
            for (int n; (n = in.read(buf)) >= 0; ) {
                feed(pieces, pieceSize, pos, buf, n);
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                while (bb.hasRemaining()) {
                    pos += out.write(bb, pos);
                }
            }
        }
        return pos;
    }

    /** Hands {@code n} bytes that sit at object position {@code pos} to {@code pieces}, split at piece boundaries. */
    static void feed(Pieces pieces, long pieceSize, long pos, byte[] buf, int n) {
        for (int done = 0; pieces != null && done < n; ) {
            long at = pos + done;
            int piece = (int) (at / pieceSize);
            int len = (int) Math.min(n - done, (piece + 1) * pieceSize - at);
            pieces.accept(piece, buf, done, len);
            done += len;
        }
    }
}
