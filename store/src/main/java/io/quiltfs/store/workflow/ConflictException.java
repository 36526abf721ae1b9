package io.quiltfs.store.workflow;

import java.io.IOException;

/**
 * Refused to protect someone's work (a diverged push, a pull conflict, uninstalling unsaved
 * work): nothing was changed; the message says what to do next.
 */
public final class ConflictException extends IOException {
    public ConflictException(String message) {
        super(message);
    }
}
