/**
 * The workflow verbs, one class each (build, and the verbs that build on it), written against
 * the registry interface so that they work the same on every kind of registry.
 */
package io.quiltfs.store.workflow;
