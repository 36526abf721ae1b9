package io.quiltfs.store.registry;

/** One pushed revision: its timestamp pointer (seconds since the epoch) and top hash. */
public record Revision(long timestamp, String topHash) {
    /**
     * The timestamp a pointer file's name stands for, or -1 when the name is no timestamp
     * (another file, or digits past what a long holds: a registry is untrusted input).
     */
    static long timestampOf(String name) {
        if (!name.matches("[0-9]{1,19}")) {
            return -1;
        }
        try {
            return Long.parseLong(name);
        } catch (NumberFormatException tooLarge) {
            return -1;
        }
    }
}
