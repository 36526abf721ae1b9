/**
 * The content-addressed object cache and the single-flight fetcher. Invariant: an object is
 * visible in the cache only after its content matched its checksum; nothing partial or
 * unverified is ever left under an object's name. Thread- and process-safe.
 */
package io.quiltfs.store.cache;
