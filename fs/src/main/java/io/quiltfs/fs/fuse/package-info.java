/**
 * The thin FUSE side: the only package that imports jnr-fuse. {@link
 * io.quiltfs.fs.fuse.FuseAdapter} unpacks each callback's arguments, calls {@link
 * io.quiltfs.fs.PackageFs}, and turns any {@code Throwable} into an errno (through {@link
 * io.quiltfs.fs.Errno#of}) and at most one log line. {@link io.quiltfs.fs.fuse.FuseMount} mounts
 * and unmounts (always with a timeout) and cleans stale mount points; {@link
 * io.quiltfs.fs.fuse.MountTable} reads the kernel's mount table.
 *
 * <p>Threading: libfuse calls back on several threads at once; the adapter keeps no state of
 * its own beyond the immutable core it wraps.
 */
package io.quiltfs.fs.fuse;
