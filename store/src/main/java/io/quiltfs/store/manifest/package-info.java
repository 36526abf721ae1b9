/**
 * Manifests: the immutable {@link io.quiltfs.store.manifest.Manifest} (rows kept column by column
 * in walk order), its JSONL reader and writer, logical-key validation and the top hash.
 * Invariant: a Manifest only ever holds valid, unique logical keys, none of which is also a
 * folder of another; manifests are untrusted input and are checked when read.
 */
package io.quiltfs.store.manifest;
