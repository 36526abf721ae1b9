package io.quiltfs.store.hash;

import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A row's {@code hash} object: a type and its value as written. The raw digest bytes are
 * available when the value is a well-formed encoding for the type (see {@link #isWellFormed()}).
 */
public final class Checksum {
    private static final HexFormat HEX = HexFormat.of();

    private final HashType type;
    private final String value;

    private Checksum(HashType type, String value) {
        this.type = Objects.requireNonNull(type);
        this.value = Objects.requireNonNull(value);
    }

    /** The checksum exactly as a manifest spells it. */
    public static Checksum of(HashType type, String value) {
        return new Checksum(type, value);
    }

    /** The canonical spelling of raw digest bytes. */
    public static Checksum ofRaw(HashType type, byte[] raw) {
        if (raw.length != type.length()) {
            throw new IllegalArgumentException(type.wireName() + " digest must be " + type.length() + " bytes");
        }
        return new Checksum(type, encode(type, raw));
    }

    static String encode(HashType type, byte[] raw) {
        return type.encoding() == HashType.Encoding.HEX
                ? HEX.formatHex(raw)
                : Base64.getEncoder().encodeToString(raw);
    }

    /** Decodes a value to raw bytes, or returns null when it is not the canonical encoding. */
    public static byte[] decodeCanonical(HashType type, String value) {
        byte[] raw;
        try {
            if (type.encoding() == HashType.Encoding.HEX) {
                if (value.length() != type.length() * 2) {
                    return null;
                }
                raw = HEX.parseHex(value);
            } else {
                raw = Base64.getDecoder().decode(value);
            }
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (raw.length != type.length() || !encode(type, raw).equals(value)) {
            return null;
        }
        return raw;
    }

    public HashType type() {
        return type;
    }

    public String value() {
        return value;
    }

    /** Whether the value is the canonical encoding of a digest of the right length. */
    public boolean isWellFormed() {
        return decodeCanonical(type, value) != null;
    }

    /** The raw digest; throws when the value is not well formed. */
    public byte[] raw() {
        byte[] raw = decodeCanonical(type, value);
        if (raw == null) {
            throw new IllegalStateException("malformed " + type.wireName() + " value '" + value + "'");
        }
        return raw;
    }

    /** Lowercase hex of the raw digest: the object cache's file name for this checksum. */
    public String hex() {
        return HEX.formatHex(raw());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Checksum c && c.type == type && c.value.equals(value);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + value.hashCode();
    }

    @Override
    public String toString() {
        return type.wireName() + ":" + value;
    }

    /** Constant-time-irrelevant equality of raw digests (both must be well formed). */
    public boolean sameDigest(byte[] raw) {
        byte[] mine = decodeCanonical(type, value);
        return mine != null && Arrays.equals(mine, raw);
    }
}
