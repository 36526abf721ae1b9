package io.quiltfs.store.hash;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The SHA-256 of every chunk of the {@code sha2-256-chunked} checksums this process computed
 * lately, by checksum value, so that an upload can hand S3 each part's SHA-256 (parts are
 * chunks) without reading the file again. The memo is self-certifying: the chunk digests of a
 * value hash to that value, and {@link #of} checks that before it answers, so an entry can
 * never vouch for other content. Bounded (least recently used out); thread-safe.
 */
final class ChunkDigests {
    /** About 8 MB of digests: a push of 100,000 small files or a 2 TiB file. */
    private static final int MAX_DIGESTS = 250_000;
    private static final int LENGTH = 32;
    private static final Map<String, byte[]> MEMO = new LinkedHashMap<>(1024, 0.75f, true);
    private static int held;

    private ChunkDigests() {
    }

    /** Remembers the concatenated chunk digests of {@code value} (a sha2-256-chunked value). */
    static void remember(String value, byte[] concatenated) {
        if (concatenated.length == 0 || concatenated.length > MAX_DIGESTS * LENGTH) {
            return;
        }
        synchronized (MEMO) {
            byte[] old = MEMO.put(value, concatenated);
            held += concatenated.length / LENGTH - (old == null ? 0 : old.length / LENGTH);
            var it = MEMO.values().iterator();
            while (held > MAX_DIGESTS && it.hasNext()) {
                held -= it.next().length / LENGTH;
                it.remove();
            }
        }
    }

    /** The chunk digests of a sha2-256-chunked checksum, or null when they are not known. */
    static byte[][] of(Checksum sum) {
        if (sum.type() != HashType.SHA2_256_CHUNKED) {
            return null;
        }
        byte[] all;
        synchronized (MEMO) {
            all = MEMO.get(sum.value());
        }
        if (all == null) {
            return null;
        }
        MessageDigest outer = Sha256.newDigest();
        if (!Arrays.equals(outer.digest(all), Checksum.decodeCanonical(sum.type(), sum.value()))) {
            return null;
        }
        byte[][] out = new byte[all.length / LENGTH][];
        for (int i = 0; i < out.length; i++) {
            out[i] = Arrays.copyOfRange(all, i * LENGTH, (i + 1) * LENGTH);
        }
        return out;
    }
}
