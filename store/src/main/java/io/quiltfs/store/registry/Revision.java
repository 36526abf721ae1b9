package io.quiltfs.store.registry;

/** One pushed revision: its timestamp pointer (seconds since the epoch) and top hash. */
public record Revision(long timestamp, String topHash) {
}
