/**
 * JSON: the configured Jackson mapper, and the canonical form that the top hash is computed
 * over (Python's {@code sort_keys}, {@code ensure_ascii}, {@code repr} floats). Stateless.
 */
package io.quiltfs.store.json;
