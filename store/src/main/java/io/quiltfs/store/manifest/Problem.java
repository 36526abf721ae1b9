package io.quiltfs.store.manifest;

/** One problem found in a manifest, with its 1-based line number and the key it concerns. */
public record Problem(long line, String key, String message, boolean error) {
    @Override
    public String toString() {
        return line + ": " + (error ? "" : "warning: ") + message
                + (key != null ? " (key '" + LogicalKey.printable(key) + "')" : "");
    }
}
