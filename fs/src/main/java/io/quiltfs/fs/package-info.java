/**
 * The filesystem core: a package revision seen as folders and files, speaking paths and bytes,
 * testable without FUSE. {@link io.quiltfs.fs.PackageFs} answers the kernel's questions
 * (getattr, readdir, open, read, release, xattrs, statfs); {@link io.quiltfs.fs.ObjectStore}
 * turns a row into bytes, from the verified object cache or through a {@link
 * io.quiltfs.fs.RangedFetch} that streams the object into the cache while serving reads.
 *
 * <p>Editable mounts: a {@link io.quiltfs.fs.WorkArea} (private copies plus a journal in the
 * home) overrides the revision key by key; {@link io.quiltfs.fs.AreaFiles} shows the result to
 * the workflow verbs as their {@code WorkingFiles}. Every change reaches the working area (bytes
 * written, journal line appended) before the kernel gets its answer; a commit freezes the copies
 * (later writes copy first) and then rebases the tree on the new revision.
 *
 * <p>Invariants: the manifest is immutable, so a read-only namespace needs no locks (an
 * editable one has a read-write lock: lookups shared, changes exclusive); nothing unverified
 * ever enters the object cache, and a read that reaches the end of a file returns only after
 * the whole object verified; every wait on the network has a deadline (a stalled fetch becomes
 * EIO). Errors become an errno in exactly one place, {@link io.quiltfs.fs.Errno#of}.
 *
 * <p>Threading: every public method may be called from many threads at once (FUSE callbacks
 * run concurrently). Shared state is immutable, a concurrent map ({@link
 * io.quiltfs.fs.HandleTable}, the fetches in flight), or Caffeine's ({@link
 * io.quiltfs.fs.CacheBudget}). No lock is held across I/O, with one exception: deleting an
 * object to keep the cache within its limit happens under the home's lineage lock (so that no
 * commit starts using the object meanwhile), taken without waiting: when it is busy, the
 * object stays; within the pin map's update of that object it is only renamed into the cache's
 * {@code tmp/} (so an open of it pins it first and keeps it, or finds it gone and fetches it;
 * the update locks a bin of the map, which opens and closes of other names may share, so it
 * does no more than the renames), and unlinked after. Under it, the manifests of
 * local commits made since the cache was last listed may be read (the listing, every 30 s at
 * most, reads them first). Those deletions, the listing and every change of the LRU happen on
 * the budget's one trimmer thread: a use of an object ({@link io.quiltfs.fs.CacheBudget#touch}:
 * an open, a fetch done, a close) only records it and signals the trimmer, which brings the
 * cache back within its limit right after; closing the {@link io.quiltfs.fs.ObjectStore}
 * (unmounting) stops it.
 */
package io.quiltfs.fs;
