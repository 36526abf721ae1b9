package io.quiltfs.store.hash;

import java.util.Locale;

/** The checksum types a manifest row may carry, with their wire names and value encodings. */
public enum HashType {
    /** Legacy whole-file SHA-256, lowercase hex. */
    SHA256("SHA256", 32, Encoding.HEX),
    /** quilt3's default: SHA-256 over the SHA-256 digests of fixed-size chunks, base64. */
    SHA2_256_CHUNKED("sha2-256-chunked", 32, Encoding.BASE64),
    /** CRC-64/NVME of the whole file, base64 of the 8 big-endian bytes. */
    CRC64NVME("CRC64NVME", 8, Encoding.BASE64);

    enum Encoding { HEX, BASE64 }

    private final String wireName;
    private final int length;
    private final Encoding encoding;

    HashType(String wireName, int length, Encoding encoding) {
        this.wireName = wireName;
        this.length = length;
        this.encoding = encoding;
    }

    /** The name as written in a manifest's {@code hash.type}. */
    public String wireName() {
        return wireName;
    }

    /** Length of the raw digest in bytes. */
    public int length() {
        return length;
    }

    /** Whether the type resists deliberate collisions (CRC64 does not). */
    public boolean isCryptographic() {
        return this != CRC64NVME;
    }

    Encoding encoding() {
        return encoding;
    }

    /** The type for a manifest's {@code hash.type}, or null when it is not one quiltfs knows. */
    public static HashType fromWire(String name) {
        for (HashType t : values()) {
            if (t.wireName.equals(name)) {
                return t;
            }
        }
        return null;
    }

    /** Parses a user's spelling ({@code sha2-256-chunked}, {@code sha256}, {@code crc64nvme}). */
    public static HashType parseUserInput(String name) {
        HashType exact = fromWire(name);
        if (exact != null) {
            return exact;
        }
        String n = name.toLowerCase(Locale.ROOT).replace("_", "-");
        switch (n) {
            case "sha256": case "sha-256": return SHA256;
            case "chunked": case "sha2-256-chunked": case "sha256-chunked": return SHA2_256_CHUNKED;
            case "crc64nvme": case "crc64-nvme": case "crc64": return CRC64NVME;
            default:
                throw new IllegalArgumentException("unknown hash type '" + name
                        + "' (known: SHA256, sha2-256-chunked, CRC64NVME)");
        }
    }
}
