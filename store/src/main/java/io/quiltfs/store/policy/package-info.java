/**
 * quilt3 workflows: a registry's {@code .quilt/workflows/config.yml} names the workflows a package
 * may be published under (a handle pattern, JSON Schemas for package metadata and for the entries,
 * whether a message is required) and whether one is required. {@link io.quiltfs.store.policy.Workflows}
 * checks a revision against it and returns the {@code workflow} value of the manifest header, which
 * is part of the top hash: quiltfs publishes exactly what quilt3 8.0.0 would, and refuses what it
 * refuses (its {@code quilt3.workflows} module is the reference for every rule here).
 *
 * <p>The config is YAML as PyYAML's {@code safe_load} reads it (SnakeYAML's SafeConstructor: YAML
 * 1.1 scalars, merge keys); every pattern ({@code handle_pattern}, a schema's {@code pattern} and
 * {@code patternProperties}) is a Python {@code re} pattern, compiled by
 * {@link io.quiltfs.store.policy.PythonRegex} and refused where Python refuses it. A check runs in
 * quilt3's order: message, name and package metadata first (before anything is hashed), the
 * entries after ({@link io.quiltfs.store.policy.Workflows.Check}); the entries schema sees only
 * keys, sizes and row metadata, so build and commit check the rows they are about to make before
 * hashing too (commit checks the hashed rows again when they differ).
 *
 * <p>Invariants: a config is read once per check, by key, through the registry (the S3 client
 * lives in {@link io.quiltfs.store.registry.S3Registry} only); nothing here writes. Every failure
 * is a {@link io.quiltfs.store.policy.WorkflowException} whose one-line message names the registry
 * and the workflow.
 *
 * <p>Threading: values are immutable once loaded; a loaded config may be used from any thread.
 */
package io.quiltfs.store.policy;
