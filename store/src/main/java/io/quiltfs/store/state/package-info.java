/**
 * Local state of a home: the layout ({@link io.quiltfs.store.state.Home}, the one owner of
 * paths), atomic file writes, locks shared by threads and processes, the lineage file, and the
 * kernel's mount table ({@link io.quiltfs.store.state.MountTable}, read by uninstall and the mounts).
 * Invariant: every state file is replaced atomically; read-modify-write happens under a lock.
 */
package io.quiltfs.store.state;
