/**
 * Checksums of the Quilt format: {@code SHA256}, {@code sha2-256-chunked} and {@code CRC64NVME}.
 * One class per algorithm; {@link io.quiltfs.store.hash.FileHasher} hashes files (chunks and
 * files in parallel on one fork-join pool). Hashers are single-threaded objects; everything
 * else here is stateless and thread-safe.
 */
package io.quiltfs.store.hash;
