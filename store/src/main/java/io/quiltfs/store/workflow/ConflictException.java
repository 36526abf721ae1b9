package io.quiltfs.store.workflow;

import java.io.IOException;

/**
 * Refused to protect someone's work (a diverged push, a pull conflict, uninstalling unsaved
 * work): nothing was changed; the message says what to do next.
 */
public final class ConflictException extends IOException {
    private final java.util.List<String> keys;

    public ConflictException(String message) {
        this(message, java.util.List.of());
    }

    /** A refusal that concerns these logical keys (a pull's conflicts). */
    public ConflictException(String message, java.util.List<String> keys) {
        super(message);
        this.keys = java.util.List.copyOf(keys);
    }

    /** The logical keys the refusal concerns, if any. */
    public java.util.List<String> keys() {
        return keys;
    }
}
