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

    /**
     * A pointer ({@code latest}, a timestamp, a tag) that is no pointer: it holds no top hash, is
     * no regular file, cannot be read, or has a name that is none a pointer may have. Names the
     * registry, the pointer's key in it and what is wrong, so that a listing can skip it and say so.
     */
    public static final class BadPointer extends RegistryException {
        private final String registry;
        private final String key;
        private final String problem;

        public BadPointer(String registry, String key, String problem) {
            super("pointer " + registry + "/" + key + " " + problem);
            this.registry = registry;
            this.key = key;
            this.problem = problem;
        }

        /** The registry's URI. */
        public String registry() {
            return registry;
        }

        /** The pointer's key in the registry ({@code .quilt/named_packages/NS/NAME/1700000000}). */
        public String key() {
            return key;
        }

        /** What is wrong with it, as the end of a sentence that starts with the pointer. */
        public String problem() {
            return problem;
        }
    }
}
