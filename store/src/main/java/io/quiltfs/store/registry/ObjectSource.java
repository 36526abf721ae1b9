package io.quiltfs.store.registry;

import java.io.IOException;
import java.io.InputStream;

/**
 * Reads data objects by physical key. A registry is one; physical keys may also point outside
 * any registry (another bucket, a local file), which {@link Registries#sourceFor} resolves.
 * Implementations are thread-safe.
 */
public interface ObjectSource {
    /** Whether this source can read the key (its scheme, and its bucket for S3). */
    boolean canRead(PhysicalKey key);

    /**
     * A stream of {@code length} bytes from {@code offset} ({@code length < 0}: to the end).
     * Throws {@link RegistryException.NotFound} naming the key when it does not exist.
     */
    InputStream open(PhysicalKey key, long offset, long length) throws IOException;

    /** The object's size in bytes; {@link RegistryException.NotFound} when it does not exist. */
    long size(PhysicalKey key) throws IOException;
}
