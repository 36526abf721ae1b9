package io.quiltfs.store.workflow;

/**
 * Receives progress of long work (files and bytes). Called from several threads at once;
 * implementations must be thread-safe. {@link #NONE} ignores everything.
 */
public interface Progress {
    Progress NONE = new Progress() {
    };

    /** A phase begins ("hashing", "uploading", ...), with its totals when known (-1 if not). */
    default void begin(String phase, long files, long bytes) {
    }

    /** Work done since the last call. */
    default void advance(long files, long bytes) {
    }

    /** The current phase ended. */
    default void end() {
    }
}
