/**
 * Registries: where packages live (a local folder, {@link io.quiltfs.store.registry.LocalRegistry},
 * or an S3 bucket, {@link io.quiltfs.store.registry.S3Registry}), and the sources that read data
 * objects by physical key. {@link io.quiltfs.store.registry.Registries} is the one place that maps
 * a URI or a physical key's scheme to an implementation; S3Registry (with the
 * AWS profile reader nested in it) is the only class in the project that imports the AWS SDK.
 *
 * <p>Invariants: hot paths (pointers, manifests, data objects) read by key, never by listing; a
 * pushed revision stays readable forever (nothing an earlier revision points to is overwritten);
 * {@code latest} moves only by compare-and-set; every write is atomic for readers (a temp file and
 * a rename locally, a single PUT or a completed multipart upload on S3). Errors are
 * {@link io.quiltfs.store.registry.RegistryException}s whose message names the registry and key
 * and never a credential.
 *
 * <p>Threading: every registry and source is safe for concurrent use.
 */
package io.quiltfs.store.registry;
