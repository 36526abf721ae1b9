/**
 * Interoperability with quilt3, the reference Quilt client, run as a peer: each test makes a
 * package with one client and reads, verifies or changes it with the other, against every
 * registry kind of {@link io.quiltfs.store.testing.TestRegistries#kinds()}.
 *
 * <p>quilt3 runs as a child process ({@link io.quiltfs.nativetests.interop.Quilt3}: the pinned
 * quilt3 that {@code scripts/setup} installs into {@code .venv/}, driven by
 * {@code src/test/python/quilt3_driver.py}) with its own data, cache and config folders under
 * the test's temporary folder, telemetry off and no network but loopback. quiltfs runs
 * in-process through its command line ({@link io.quiltfs.nativetests.interop.Quiltfs}) and
 * through the store API. Missing quilt3 is a failure, never a skip.
 */
package io.quiltfs.nativetests.interop;
