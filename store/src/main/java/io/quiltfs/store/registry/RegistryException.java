package io.quiltfs.store.registry;

import java.io.IOException;

/** A registry operation that failed for a reason a person can act on; the message says which. */
public class RegistryException extends IOException {
    public RegistryException(String message) {
        super(message);
    }

    public RegistryException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Something that does not exist: a package, revision, manifest, tag or object. */
    public static final class NotFound extends RegistryException {
        public NotFound(String message) {
            super(message);
        }
    }

    /** A reference that names more than one thing (a hash prefix two revisions share). */
    public static final class Ambiguous extends RegistryException {
        public Ambiguous(String message) {
            super(message);
        }
    }
}
