package io.quiltfs.fs.fuse;

import io.quiltfs.fs.Attr;
import io.quiltfs.fs.Errno;
import io.quiltfs.fs.FsException;
import io.quiltfs.fs.PackageFs;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.FuseStubFS;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** jnr-fuse callbacks over a {@link PackageFs}: unpack, call the core, return an errno. */
final class FuseAdapter extends FuseStubFS {
    private static final Logger log = LoggerFactory.getLogger(FuseAdapter.class);
    /** Byte of fuse_file_info holding the direct_io (bit 0) and keep_cache (bit 1) bits. */
    private static final int FI_BITS_OFFSET = 20;
    private static final int KEEP_CACHE = 1 << 1;
    private static final int DIRECT_IO = 1;
    /**
     * fuse_operations' flag_nullpath_ok and flag_utime_omit_ok in the low byte of its flags word
     * (x86-64, arm64: little-endian).
     */
    private static final int FLAG_NULLPATH_OK = 1;
    private static final int FLAG_UTIME_OMIT_OK = 1 << 2;
    /** struct fuse_operations (libfuse 2.9, a frozen ABI): 38 function pointers, then the flags word. */
    private static final int FLAGS_WORD_AFTER_POINTERS = 38;

    private final PackageFs fs;
    private final long uid;
    private final long gid;
    final CountDownLatch ready = new CountDownLatch(1);
    /** Set on a read-only mount where the kernel may pass cached files through (else null). */
    volatile Passthrough passthrough;
    /** Read requests the daemon served (a passed-through file makes none). */
    final java.util.concurrent.atomic.LongAdder reads = new java.util.concurrent.atomic.LongAdder();
    /**
     * The kernel's node of the OPEN, READ or WRITE request this thread is processing (set by
     * {@link SessionLoop}), else 0.
     */
    static final ThreadLocal<long[]> OPENING = ThreadLocal.withInitial(() -> new long[1]);
    /** The kernel's node of the folder of the LOOKUP request this thread is processing (set by {@link SessionLoop}), else 0. */
    static final ThreadLocal<long[]> LOOKING_IN = ThreadLocal.withInitial(() -> new long[1]);
    /**
     * The kernel's node of each folder it looked names up in, by path: the kernel caches names
     * (and absent names) only in those, and a pull's changes of names are dropped through them.
     */
    private final java.util.Map<String, Long> folders = new java.util.concurrent.ConcurrentHashMap<>();
    /** Open handles of an editable mount by the kernel node they were opened on (to drop its cached pages). */
    private final java.util.Map<Long, Long> nodes = new java.util.concurrent.ConcurrentHashMap<>();

    FuseAdapter(PackageFs fs, long uid, long gid) {
        this.fs = fs;
        this.uid = uid;
        this.gid = gid;
        // libfuse2 silently drops a time change that leaves the access time alone (`touch -m`,
        // `tar -x` and `cp -p`'s futimens with UTIME_OMIT) unless the file system says it takes
        // UTIME_OMIT and UTIME_NOW (which utimens below does): flag_utime_omit_ok, bit 2 of the
        // bit-field word that follows libfuse2's 38 function pointers (getattr ... bmap).
        // A file removed while open whose folder was removed too has no path libfuse can name:
        // with flag_nullpath_ok (bit 0) its descriptors still read, write, fsync and close (the
        // callbacks get a null path and work by the handle), as on a local disk.
        Pointer ops = Struct.getMemory(fuseOperations);
        long flags = FLAGS_WORD_AFTER_POINTERS * (long) jnr.ffi.Runtime.getSystemRuntime().addressSize();
        ops.putByte(flags, (byte) (ops.getByte(flags) | FLAG_UTIME_OMIT_OK | FLAG_NULLPATH_OK));
        if (fs.editable()) {
            fs.kernel(new PackageFs.Kernel() {
                @Override
                public long node(long handle) {
                    Long node = nodes.get(handle);
                    return node == null ? 0 : node;
                }

                @Override
                public void invalidate(List<Long> changed) {
                    Invalidations i = invalidations;
                    if (i != null) {
                        i.queue(changed);
                    }
                }

                @Override
                public boolean invalidateNames(List<String> keys) {
                    Invalidations i = invalidations;
                    if (i == null) {
                        return false;
                    }
                    List<Invalidations.Name> names = new java.util.ArrayList<>();
                    for (String k : keys) {
                        int slash = k.lastIndexOf('/');
                        Long folder = slash < 0 ? Long.valueOf(1) // FUSE_ROOT_ID
                                : folders.get("/" + k.substring(0, slash));
                        if (folder != null) {
                            names.add(new Invalidations.Name(folder,
                                    k.substring(slash + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                        }
                    }
                    i.queueNames(names);
                    return !names.isEmpty();
                }

                @Override
                public void awaitInvalidations() {
                    Invalidations i = invalidations;
                    if (i != null) {
                        i.await(INVALIDATION_WAIT_MS);
                    }
                }
            });
        }
    }

    /**
     * How long the request that caused cache drops (a pull through the control file) waits, once
     * the pull is over, for those still queued before it answers: they normally take microseconds; one that waits for the kernel
     * (its page locks, held by reads in flight) must not hold the answer for long.
     */
    private static final long INVALIDATION_WAIT_MS = 1000;

    /**
     * Drops the kernel's pages and attributes of files a pull changed under open descriptors
     * (their descriptors now read the new bytes), from a thread of its own: set once the session
     * runs on our own loop (null under jnr-fuse's loop: nothing is invalidated), closed before
     * the session is torn down.
     */
    volatile Invalidations invalidations;

    /**
     * Records the node of an open handle from a request on it, for a handle whose OPEN did not
     * name it (one made by CREATE): a pull that changes its file can then drop the kernel's pages.
     */
    private void noteNode(long fh) {
        long node = OPENING.get()[0];
        if (node != 0 && fs.editable() && !nodes.containsKey(fh)) {
            nodes.putIfAbsent(fh, node);
        }
    }

    /** jnr-fuse's table of callbacks (handed to libfuse by {@link SessionLoop}). */
    Struct operations() {
        return fuseOperations;
    }

    /** The errno for a failure, logging what is not an ordinary answer (once, here). */
    private static int fail(String op, String path, Throwable t) {
        Errno e = Errno.of(t);
        if (t instanceof FsException || t instanceof io.quiltfs.fs.ReportedException) {
            log.debug("{} {}: {}", op, path, t.getMessage());
        } else if (t instanceof java.io.IOException) {
            log.warn("{} {}: {} ({})", op, path, t.getMessage(), e);
        } else {
            log.error("{} {}: unexpected failure ({})", op, path, e, t);
        }
        return e.negated();
    }

    @Override
    public Pointer init(Pointer conn) {
        if (passthrough == null) {
            ready.countDown(); // else once the amended INIT reply reached the kernel (SessionLoop)
        }
        return null;
    }

    @Override
    public int getattr(String path, FileStat st) {
        long in = LOOKING_IN.get()[0];
        if (in != 0 && path != null) {
            int slash = path.lastIndexOf('/');
            folders.put(slash <= 0 ? "/" : path.substring(0, slash), in);
        }
        try {
            fill(st, fs.getattr(path));
            return 0;
        } catch (Throwable t) {
            return fail("getattr", path, t);
        }
    }

    @Override
    public int fgetattr(String path, FileStat st, FuseFileInfo fi) {
        try {
            // No path: a file removed while open whose folder is gone too (flag_nullpath_ok).
            fill(st, path == null ? fs.fgetattr(fi.fh.get()) : fs.getattr(path));
            return 0;
        } catch (Throwable t) {
            return fail("fgetattr", path, t);
        }
    }

    private void fill(FileStat st, Attr a) {
        st.st_mode.set(a.stMode());
        st.st_size.set(a.size());
        st.st_nlink.set(a.directory() ? 2 : 1);
        st.st_uid.set(uid);
        st.st_gid.set(gid);
        st.st_blksize.set(4096);
        st.st_blocks.set((a.size() + 511) / 512);
        setTime(st.st_mtim, a);
        setTime(st.st_atim, a);
        setTime(st.st_ctim, a);
    }

    private static void setTime(Timespec t, Attr a) {
        t.tv_sec.set(a.mtime());
        t.tv_nsec.set(a.mtimeNanos());
    }

    @Override
    public int readdir(String path, Pointer buf, FuseFillDir filter, @off_t long offset, FuseFileInfo fi) {
        if (path == null) {
            return 0; // an open folder that was removed: empty, as on a local disk
        }
        try {
            FileStat dirStat = new FileStat(jnr.ffi.Runtime.getSystemRuntime());
            FileStat fileStat = new FileStat(jnr.ffi.Runtime.getSystemRuntime());
            dirStat.st_mode.set(Attr.S_IFDIR | (fs.editable() ? 0755 : 0555));
            fileStat.st_mode.set(Attr.S_IFREG | (fs.editable() ? 0644 : 0444));
            fs.readdir(path, (name, dir) -> filter.apply(buf, name, dir ? dirStat : fileStat, 0) == 0);
            return 0;
        } catch (Throwable t) {
            return fail("readdir", path, t);
        }
    }

    @Override
    public int open(String path, FuseFileInfo fi) {
        try {
            long h = fs.open(path, fi.flags.get());
            fi.fh.set(h);
            long node = OPENING.get()[0];
            if (node != 0 && fs.editable()) {
                nodes.put(h, node);
            }
            Passthrough pt = passthrough;
            if (pt != null && pt.open(path, h, fs.cachedFile(h)) > 0) {
                return 0; // the kernel reads the cache file itself (SessionLoop amends the reply)
            }
            if (fs.keepCache(h)) {
                Pointer p = Struct.getMemory(fi);
                p.putByte(FI_BITS_OFFSET, (byte) (p.getByte(FI_BITS_OFFSET) | KEEP_CACHE));
            } else if (fs.directIo(h)) {
                Pointer p = Struct.getMemory(fi);
                p.putByte(FI_BITS_OFFSET, (byte) (p.getByte(FI_BITS_OFFSET) | DIRECT_IO));
            }
            return 0;
        } catch (Throwable t) {
            return fail("open", path, t);
        }
    }

    @Override
    public int read(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        reads.increment();
        try {
            if (buf.isDirect()) {
                // Zero copy: the file's bytes go straight into libfuse's reply buffer.
                ByteBuffer dst = com.kenai.jffi.MemoryIO.getInstance().newDirectByteBuffer(buf.address(), (int) size);
                int n = fs.read(fi.fh.get(), offset, dst);
                noteNode(fi.fh.get());
                return n;
            }
            byte[] b = new byte[(int) size];
            int n = fs.read(fi.fh.get(), offset, ByteBuffer.wrap(b));
            buf.put(0, b, 0, n);
            noteNode(fi.fh.get());
            return n;
        } catch (Throwable t) {
            return fail("read", path, t);
        }
    }

    @Override
    public int release(String path, FuseFileInfo fi) {
        try {
            releaseHandle(fi.fh.get());
            return 0;
        } catch (Throwable t) {
            return fail("release", path, t);
        }
    }

    /** Closes an open file: also for an open whose reply the kernel no longer waited for. */
    void releaseHandle(long fh) throws java.io.IOException {
        nodes.remove(fh);
        try {
            fs.release(fh);
        } finally {
            Passthrough pt = passthrough;
            if (pt != null) {
                pt.release(fh);
            }
        }
    }

    @Override
    public int opendir(String path, FuseFileInfo fi) {
        try {
            if (!fs.getattr(path).directory()) {
                return Errno.ENOTDIR.negated();
            }
            return 0;
        } catch (Throwable t) {
            return fail("opendir", path, t);
        }
    }

    @Override
    public int releasedir(String path, FuseFileInfo fi) {
        return 0;
    }

    @Override
    public int access(String path, int mask) {
        try {
            Attr a = fs.getattr(path);
            if ((mask & 2) != 0 && !fs.editable()) {
                return Errno.EROFS.negated(); // W_OK
            }
            boolean x = a.directory() || (a.mode() & 0100) != 0;
            return (mask & 1) != 0 && !x ? Errno.EACCES.negated() : 0; // X_OK on a plain file
        } catch (Throwable t) {
            return fail("access", path, t);
        }
    }

    @Override
    public int statfs(String path, Statvfs st) {
        try {
            PackageFs.FsStats s = fs.statfs();
            st.f_bsize.set(s.blockSize());
            st.f_frsize.set(s.blockSize());
            st.f_blocks.set(s.blocks());
            long free = 0;
            if (fs.editable()) {
                java.nio.file.FileStore store = java.nio.file.Files.getFileStore(fs.area().dir());
                free = store.getUsableSpace() / s.blockSize();
            }
            st.f_blocks.set(s.blocks() + free);
            st.f_bfree.set(free);
            st.f_bavail.set(free);
            st.f_files.set(s.files() + (fs.editable() ? 1_000_000 : 0));
            st.f_ffree.set(fs.editable() ? 1_000_000 : 0);
            st.f_favail.set(fs.editable() ? 1_000_000 : 0);
            st.f_namemax.set(s.nameMax());
            st.f_flag.set(fs.editable() ? 0 : Statvfs.ST_RDONLY);
            return 0;
        } catch (Throwable t) {
            return fail("statfs", path, t);
        }
    }

    @Override
    public int getxattr(String path, String name, Pointer value, @size_t long size) {
        try {
            byte[] v = fs.getxattr(path, name);
            return copyOut(v, value, size);
        } catch (Throwable t) {
            return fail("getxattr", path, t);
        }
    }

    @Override
    public int listxattr(String path, Pointer list, @size_t long size) {
        try {
            List<String> names = fs.listxattr(path);
            StringBuilder sb = new StringBuilder();
            for (String n : names) {
                sb.append(n).append('\0');
            }
            return copyOut(sb.toString().getBytes(StandardCharsets.UTF_8), list, size);
        } catch (Throwable t) {
            return fail("listxattr", path, t);
        }
    }

    /** getxattr/listxattr protocol: size 0 asks for the length; too small a buffer is ERANGE. */
    private static int copyOut(byte[] v, Pointer dst, long size) {
        if (size == 0) {
            return v.length;
        }
        if (size < v.length) {
            return Errno.ERANGE.negated();
        }
        dst.put(0, v, 0, v.length);
        return v.length;
    }

    // Changes of the tree: PackageFs refuses them with EROFS on a read-only mount.

    @Override
    public int create(String path, @mode_t long mode, FuseFileInfo fi) {
        try {
            fi.fh.set(fs.create(path, (int) mode, fi.flags.get()));
            return 0;
        } catch (Throwable t) {
            return fail("create", path, t);
        }
    }

    @Override
    public int write(String path, Pointer buf, @size_t long size, @off_t long offset, FuseFileInfo fi) {
        try {
            ByteBuffer src;
            if (buf.isDirect()) {
                src = com.kenai.jffi.MemoryIO.getInstance().newDirectByteBuffer(buf.address(), (int) size);
            } else {
                byte[] b = new byte[(int) size];
                buf.get(0, b, 0, b.length);
                src = ByteBuffer.wrap(b);
            }
            int n = fs.write(fi.fh.get(), offset, src);
            noteNode(fi.fh.get());
            return n;
        } catch (Throwable t) {
            return fail("write", path, t);
        }
    }

    @Override
    public int flush(String path, FuseFileInfo fi) {
        try {
            fs.flush(fi.fh.get());
            return 0;
        } catch (Throwable t) {
            return fail("flush", path, t);
        }
    }

    @Override
    public int fsync(String path, int isdatasync, FuseFileInfo fi) {
        try {
            fs.fsync(fi.fh.get());
            return 0;
        } catch (Throwable t) {
            return fail("fsync", path, t);
        }
    }

    /**
     * Without it libfuse answers ENOSYS and the kernel then calls every fsync of a folder done.
     * jnr-fuse 0.5.8 declares this callback without libfuse's {@code int datasync}: its
     * {@code fi} is really that int (0 or 1), not a pointer. Never read {@code fi} here.
     */
    @Override
    public int fsyncdir(String path, FuseFileInfo fi) {
        try {
            fs.fsyncdir();
            return 0;
        } catch (Throwable t) {
            return fail("fsyncdir", path, t);
        }
    }

    @Override
    public int mkdir(String path, @mode_t long mode) {
        try {
            fs.mkdir(path);
            return 0;
        } catch (Throwable t) {
            return fail("mkdir", path, t);
        }
    }

    @Override
    public int mknod(String path, @mode_t long mode, long rdev) {
        // Regular files arrive through create; devices, FIFOs and sockets have no place in a package.
        return fs.editable() ? Errno.EPERM.negated() : Errno.EROFS.negated();
    }

    @Override
    public int unlink(String path) {
        try {
            fs.unlink(path);
            return 0;
        } catch (Throwable t) {
            return fail("unlink", path, t);
        }
    }

    @Override
    public int rmdir(String path) {
        try {
            fs.rmdir(path);
            return 0;
        } catch (Throwable t) {
            return fail("rmdir", path, t);
        }
    }

    @Override
    public int symlink(String oldpath, String newpath) {
        return fs.editable() ? Errno.EPERM.negated() : Errno.EROFS.negated(); // a package holds no links
    }

    @Override
    public int link(String oldpath, String newpath) {
        return fs.editable() ? Errno.EPERM.negated() : Errno.EROFS.negated();
    }

    @Override
    public int rename(String oldpath, String newpath) {
        try {
            fs.rename(oldpath, newpath);
            return 0;
        } catch (Throwable t) {
            return fail("rename", oldpath, t);
        }
    }

    @Override
    public int chmod(String path, @mode_t long mode) {
        try {
            fs.chmod(path, (int) mode);
            return 0;
        } catch (Throwable t) {
            return fail("chmod", path, t);
        }
    }

    @Override
    public int chown(String path, long uid, long gid) {
        if (!fs.editable()) {
            return Errno.EROFS.negated();
        }
        // Only to the owner it already has (cp -p, tar and rsync ask for that); anything else is EPERM.
        boolean same = (uid == -1 || uid == 0xFFFFFFFFL || uid == this.uid) && (gid == -1 || gid == 0xFFFFFFFFL || gid == this.gid);
        return same ? 0 : Errno.EPERM.negated();
    }

    @Override
    public int truncate(String path, @off_t long size) {
        try {
            fs.truncate(path, size);
            return 0;
        } catch (Throwable t) {
            return fail("truncate", path, t);
        }
    }

    @Override
    public int ftruncate(String path, @off_t long size, FuseFileInfo fi) {
        try {
            fs.ftruncate(fi.fh.get(), size);
            return 0;
        } catch (Throwable t) {
            return fail("ftruncate", path, t);
        }
    }

    private static final long UTIME_NOW = (1L << 30) - 1;
    private static final long UTIME_OMIT = (1L << 30) - 2;

    @Override
    public int utimens(String path, Timespec[] timespec) {
        try {
            if (!fs.editable()) {
                return Errno.EROFS.negated();
            }
            Timespec m = timespec[1];
            long nsec = m.tv_nsec.longValue();
            if (nsec == UTIME_OMIT) {
                return 0;
            }
            fs.utimens(path, nsec == UTIME_NOW ? java.time.Instant.now() : instant(m.tv_sec.get(), nsec));
            return 0;
        } catch (Throwable t) {
            return fail("utimens", path, t);
        }
    }

    /**
     * A time_t beyond what an Instant holds (touch -d @9223372036854775807) is the first or last
     * Instant: PackageFs refuses it for a file (EINVAL) and ignores it for a folder, as for any
     * time it cannot keep.
     */
    static java.time.Instant instant(long sec, long nsec) {
        try {
            return java.time.Instant.ofEpochSecond(sec, nsec);
        } catch (java.time.DateTimeException | ArithmeticException e) {
            return sec < 0 ? java.time.Instant.MIN : java.time.Instant.MAX;
        }
    }

    @Override
    public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
        return fs.editable() ? Errno.ENOTSUP.negated() : Errno.EROFS.negated();
    }

    @Override
    public int removexattr(String path, String name) {
        return fs.editable() ? Errno.ENOTSUP.negated() : Errno.EROFS.negated();
    }

    @Override
    public int fallocate(String path, int mode, @off_t long off, @off_t long length, FuseFileInfo fi) {
        return fs.editable() ? Errno.ENOTSUP.negated() : Errno.EROFS.negated();
    }

    @Override
    public int readlink(String path, Pointer buf, @size_t long size) {
        return Errno.EINVAL.negated(); // no symbolic links in a package
    }
}
