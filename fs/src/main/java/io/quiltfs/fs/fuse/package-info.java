/**
 * The thin FUSE side: the only package that imports jnr-fuse. {@link
 * io.quiltfs.fs.fuse.FuseAdapter} unpacks each callback's arguments, calls {@link
 * io.quiltfs.fs.PackageFs}, and turns any {@code Throwable} into an errno (through {@link
 * io.quiltfs.fs.Errno#of}) and at most one log line. {@link io.quiltfs.fs.fuse.FuseMount} mounts
 * and unmounts (always with a timeout) and cleans stale mount points; {@link
 * io.quiltfs.fs.fuse.SessionLoop} runs libfuse's session loop on persistent Java threads;
 * {@link io.quiltfs.store.state.MountTable} (in store: uninstall reads it too) reads the kernel's mount table.
 *
 * <p>Threading: callbacks run on several worker threads at once (a new worker starts when all
 * are busy, so a slow fetch never blocks an {@code ls}); the adapter keeps no state of its own
 * beyond the core it wraps, the kernel nodes of open files and of the folders the kernel looked
 * names up in (learnt from LOOKUP requests). Notifications to the kernel ({@code
 * notify_inval_inode} and {@code notify_inval_entry} after a pull) go from {@link io.quiltfs.fs.fuse.Invalidations}'
 * own thread, never from a worker serving a request or holding a lock: the kernel may make a
 * notification wait for a request.
 */
package io.quiltfs.fs.fuse;
