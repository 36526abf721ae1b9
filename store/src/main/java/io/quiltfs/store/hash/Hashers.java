package io.quiltfs.store.hash;

import java.util.Arrays;

/** Creates the streaming {@link Hasher} for a checksum type. */
public final class Hashers {
    private Hashers() {
    }

    /**
     * A hasher for a stream of {@code totalSize} bytes ({@code sha2-256-chunked} needs the size
     * up front to choose its chunk size).
     */
    public static Hasher create(HashType type, long totalSize) {
        return switch (type) {
            case SHA256 -> new Sha256.WholeHasher();
            case SHA2_256_CHUNKED -> new Sha256.ChunkedHasher(totalSize);
            case CRC64NVME -> Crc64Nvme.newHasher();
        };
    }

    /** The checksum of an in-memory byte array. */
    public static Checksum of(HashType type, byte[] data) {
        Hasher h = create(type, data.length);
        h.update(data, 0, data.length);
        return h.finish();
    }

    /** Whether {@code data} has checksum {@code expected} (of any type). */
    public static boolean matches(Checksum expected, byte[] data) {
        Checksum actual = of(expected.type(), data);
        return actual.value().equals(expected.value())
                || Arrays.equals(Checksum.decodeCanonical(actual.type(), actual.value()),
                        Checksum.decodeCanonical(expected.type(), expected.value()));
    }
}
