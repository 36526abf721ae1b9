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

    /** The top hash in the first {@code n} bytes read of the pointer {@code where}; else an error naming it. */
    static String value(byte[] bytes, int n, String where) throws RegistryException {
        String h = n > MAX_BYTES ? "" : new String(bytes, 0, n, StandardCharsets.US_ASCII).strip();
        if (!TopHash.isTopHash(h)) {
            throw new RegistryException("pointer " + where + " does not hold a top hash (64 hex digits"
                    + (n > MAX_BYTES ? "; it is over " + MAX_BYTES + " bytes" : n == 0 ? "; it is empty" : "") + ")");
        }
        return h;
    }
}
