/**
 * The workflow verbs, one class each as in quilt-rs: {@link io.quiltfs.store.workflow.Install},
 * {@link io.quiltfs.store.workflow.Status}, {@link io.quiltfs.store.workflow.Commit},
 * {@link io.quiltfs.store.workflow.Push}, {@link io.quiltfs.store.workflow.Pull},
 * {@link io.quiltfs.store.workflow.Tag}, {@link io.quiltfs.store.workflow.Log},
 * {@link io.quiltfs.store.workflow.Uninstall}, plus {@code build} and the {@code Publisher}.
 *
 * <p>Invariants: the verbs that change a package hold its package lock ({@code Home#packageLock})
 * for their whole run, and the lineage lock only for each read-modify-write of the lineage.
 * Every state file is written atomically. The order of writes makes a kill at any point safe:
 * content first (object cache, registry data), then manifests, then pointers (registry
 * {@code latest} by compare-and-set), then the lineage; rerunning a verb completes or reports.
 * A verb that changes working files before the lineage can say what they are (install, pull,
 * uninstall) first marks the lineage ({@code installing}, {@code pulling}, {@code uninstalling}):
 * while a mark stands, status tells that verb's work from the user's, commit refuses, and the
 * same verb run again finishes it. Pull changes a working file only while it is what its check
 * saw ({@code WorkingFiles#guarded}): an edit made while it runs is kept and stops it, named.
 * Working files are never hard links to cached objects. Uninstall deletes a working folder
 * but never through a symbolic link standing at its place nor into another file system mounted
 * inside it (or over it since the install): it reads the mount table before it marks the lineage
 * or deletes anything, and refuses. Globs recorded in the lineage carry their syntax version
 * ({@code PackageState.globSyntax}); older ones are converted on read to keep their meaning. Status and commit see working files
 * only through {@link io.quiltfs.store.workflow.WorkingFiles}, so other working areas (a
 * mount's) can reuse them.
 *
 * <p>Threading: the verbs are called from one thread; they hash on the shared fork-join pool of
 * {@code FileHasher} and fetch on a bounded pool of their own ({@code Log} reads the headers of the
 * revisions it lists a few at a time). {@code Progress} is called from several threads.
 */
package io.quiltfs.store.workflow;
