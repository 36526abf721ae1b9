/**
 * Registries (a local folder or a bucket with the Quilt layout) and object sources, read by key
 * on every hot path. Implementations are thread-safe. Only the S3 implementation imports the
 * AWS SDK.
 */
package io.quiltfs.store.registry;
