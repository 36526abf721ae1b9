/**
 * Benchmarks of the foundation (issue 2): chunked hashing of one big file and of many small
 * files, and reading plus top-hashing a large manifest, with the heap a parsed manifest holds.
 * {@code bench/foundation.sh} generates the data under {@code bench/work/}, runs these beside
 * OpenSSL and quilt3 in the same run, and prints the ratios. Nothing here is a test: timing
 * never goes into assertions.
 */
package io.quiltfs.bench;
