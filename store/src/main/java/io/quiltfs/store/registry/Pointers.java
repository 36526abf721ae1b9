package io.quiltfs.store.registry;

import io.quiltfs.store.manifest.TopHash;
import java.nio.charset.StandardCharsets;

/**
 * What a pointer file ({@code latest}, a timestamp, a tag) may hold: one top hash, with
 * whitespace around it (a newline, CRLF) as other tools may write it. Read at most
 * {@link #MAX_BYTES} + 1 bytes of one: a registry is untrusted input, and a huge file there
 * must not be read whole.
 */
final class Pointers {
    /** Most bytes a pointer may have: its 64 hex digits with room for whitespace around them. */
    static final int MAX_BYTES = 1024;

    private Pointers() {
    }

    /**
     * The top hash in the first {@code n} bytes read of the pointer {@code key} of {@code registry};
     * else a {@link RegistryException.BadPointer} naming it.
     */
    static String value(byte[] bytes, int n, String registry, String key) throws RegistryException.BadPointer {
        String h = n > MAX_BYTES ? "" : new String(bytes, 0, n, StandardCharsets.US_ASCII).strip();
        if (!TopHash.isTopHash(h)) {
            throw new RegistryException.BadPointer(registry, key, "does not hold a top hash (64 hex digits"
                    + (n > MAX_BYTES ? "; it is over " + MAX_BYTES + " bytes" : n == 0 ? "; it is empty" : "") + ")");
        }
        return h;
    }

    /** The key of a package's pointer ({@code latest} or a timestamp) in any registry. */
    static String key(PackageName pkg, String pointer) {
        return ".quilt/named_packages/" + pkg.namespace() + "/" + pkg.name() + "/" + pointer;
    }

    /** A name under a package's pointer folder that is neither {@code latest} nor a timestamp. */
    static RegistryException.BadPointer misnamed(String registry, String key) {
        return new RegistryException.BadPointer(registry, key,
                "is named neither latest nor by a timestamp (seconds since the epoch): it is no revision");
    }

    /** A name under a package's tag folder that no tag may have. */
    static RegistryException.BadPointer misnamedTag(String registry, String key) {
        return new RegistryException.BadPointer(registry, key,
                "is not named as a tag may be (letters, digits, '.', '_' and '-'): it is no tag");
    }
}
