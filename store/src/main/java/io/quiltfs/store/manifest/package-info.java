/**
 * Manifests: the immutable {@link io.quiltfs.store.manifest.Manifest} (rows kept column by column
 * in walk order), its JSONL reader and writer, logical-key validation and the top hash.
 * Invariant: a Manifest only ever holds valid, unique logical keys, none of which is also a
 * folder of another; manifests are untrusted input and are checked when read.
 *
 * <p>Threading: a Manifest is safe to share. Reading one is single-threaded except that the
 * reader computes the top hash as it goes (the rows' canonical forms written by the reading
 * thread, SHA-256 over them on a second thread for large manifests), so verifying a manifest
 * read from a registry costs little more than reading it.
 */
package io.quiltfs.store.manifest;
