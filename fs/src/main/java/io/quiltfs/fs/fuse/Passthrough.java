package io.quiltfs.fs.fuse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Out;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FUSE passthrough (Linux 6.9 and newer) for a read-only mount: a file whose object is verified
 * in the cache is opened by the kernel on the cache file itself, so its reads, {@code mmap} and
 * re-reads never reach the daemon and run at the speed of the local file system (its page
 * cache, large folios included). Everything else is served as before.
 *
 * <p>libfuse2 predates passthrough, so two of its replies are amended on their way to the
 * kernel ({@link SessionLoop} has libfuse write them into a pipe, then forwards them): the
 * INIT reply announces protocol 7.40 with {@code FUSE_PASSTHROUGH}; an OPEN reply that
 * {@link FuseAdapter} chose to pass through gets {@code FOPEN_PASSTHROUGH} and the backing id
 * of the cache file. Registering a backing file needs CAP_SYS_ADMIN: without it, or on an older
 * kernel, nothing is amended. {@code QUILTFS_PASSTHROUGH=0} turns it off.
 *
 * <p>The kernel keeps one I/O mode per inode: while a file is open through passthrough, every
 * other open of it must use the same backing file, and while it is open through the daemon, none
 * may pass through. {@link #open} keeps that rule per path (a read-only mount never changes what
 * a path holds).
 */
final class Passthrough {
    private static final Logger log = LoggerFactory.getLogger(Passthrough.class);
    static final int FUSE_OPEN = 14;
    static final int FUSE_INIT = 26;
    private static final int IN_HEADER = 40;
    private static final int OUT_HEADER = 16;
    /** fuse_init_out as libfuse2 sends it (up to max_write) and as protocol 7.40 reads it. */
    private static final int LIBFUSE2_INIT_OUT = 24;
    private static final int INIT_OUT = 64;
    private static final int MINOR = 40;
    private static final int FUSE_INIT_EXT = 1 << 30;
    /** FUSE_PASSTHROUGH is bit 37 of the flags: bit 5 of flags2. */
    private static final int FLAGS2_PASSTHROUGH = 1 << 5;
    private static final int FOPEN_KEEP_CACHE = 1 << 1;
    private static final int FOPEN_PASSTHROUGH = 1 << 7;
    /** _IOW(229, 1, struct fuse_backing_map) and _IOW(229, 2, uint32_t). */
    private static final long BACKING_OPEN = 0x4010e501L;
    private static final long BACKING_CLOSE = 0x4004e502L;
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int O_NONBLOCK = 0x800;
    private static final int EPERM = 1;
    private static final int ELOOP = 40;
    private static final int CAP_SYS_ADMIN = 21;

    /** The libc calls passthrough needs. */
    public interface LibC {
        int open(String path, int flags);

        int close(int fd);

        int ioctl(int fd, long request, Pointer arg);

        int pipe2(@Out int[] fds, int flags);

        long read(int fd, Pointer buf, long count);

        long write(int fd, Pointer buf, long count);
    }

    private final int devFd;
    private final Runtime runtime;
    private volatile boolean active;
    private final Map<String, Node> nodes = new HashMap<>();
    private final Map<Long, Opened> handles = new HashMap<>();
    private final AtomicLong opened = new AtomicLong();
    private static final ThreadLocal<int[]> PENDING = ThreadLocal.withInitial(() -> new int[1]);
    /** Set while a request is processed without a relay: its reply cannot be amended. */
    private static final ThreadLocal<boolean[]> NO_RELAY = ThreadLocal.withInitial(() -> new boolean[1]);

    /** Opens of one path: through the daemon, or through one backing file. */
    private static final class Node {
        int cachedOpens;
        int passthroughOpens;
        int backingId;
    }

    private record Opened(String path, Node node, boolean passthrough) {
    }

    private Passthrough(int devFd) {
        this.devFd = devFd;
        this.runtime = Runtime.getRuntime(libc());
    }

    /**
     * Passthrough for a mount whose device is {@code devFd}, or null when it cannot be used
     * here: turned off, or no CAP_SYS_ADMIN. The kernel's answer comes with INIT ({@link #offered}).
     */
    static Passthrough forMount(int devFd) {
        String env = System.getenv("QUILTFS_PASSTHROUGH");
        String prop = System.getProperty("quiltfs.fuse.passthrough");
        if ("0".equals(env) || "false".equals(prop) || "0".equals(prop)) {
            log.debug("FUSE passthrough turned off");
            return null;
        }
        if (!hasSysAdmin()) {
            log.debug("FUSE passthrough needs CAP_SYS_ADMIN: reads go through the daemon");
            return null;
        }
        try {
            return new Passthrough(devFd);
        } catch (LinkageError | RuntimeException e) {
            log.debug("FUSE passthrough unavailable: {}", e.toString());
            return null;
        }
    }

    private static boolean hasSysAdmin() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapEff:")) {
                    long caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                    return (caps & (1L << CAP_SYS_ADMIN)) != 0;
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }

    static LibC libc() {
        return LibCHolder.LIBC;
    }

    /** libc, loaded on first use. */
    private static final class LibCHolder {
        static final LibC LIBC = LibraryLoader.create(LibC.class).failImmediately().load("c");
    }

    /** Whether opens may pass through (the kernel agreed at INIT, and registering works). */
    boolean active() {
        return active;
    }

    /** Opens served by the kernel from the cache file since the mount. */
    long passedThrough() {
        return opened.get();
    }

    /** Whether the kernel's INIT request (in {@code req}) offers passthrough. */
    private static boolean offered(Pointer req) {
        int minor = req.getInt(IN_HEADER + 4);
        int flags = req.getInt(IN_HEADER + 12);
        return minor >= MINOR && (flags & FUSE_INIT_EXT) != 0
                && (req.getInt(IN_HEADER + 16) & FLAGS2_PASSTHROUGH) != 0;
    }

    /**
     * Amends libfuse2's INIT reply ({@code len} bytes in {@code reply}, room for 80) to ask for
     * passthrough when the kernel's INIT request {@code req} offers it; returns the reply's new
     * length. libfuse2 speaks protocol 7.19; announcing 7.40 changes nothing else for the kernel:
     * everything newer is negotiated by flags libfuse2 does not set, and requests libfuse2 does
     * not know get {@code ENOSYS}, after which the kernel does without them.
     */
    int amendInit(Pointer req, Pointer reply, int len) {
        int o = OUT_HEADER;
        if (len < o + LIBFUSE2_INIT_OUT || reply.getInt(4) != 0 || reply.getInt(o) != 7 || !offered(req)) {
            return len;
        }
        for (int i = Math.max(len, o + LIBFUSE2_INIT_OUT); i < o + INIT_OUT; i++) {
            reply.putByte(i, (byte) 0);
        }
        reply.putInt(o + 4, MINOR);
        reply.putInt(o + 12, reply.getInt(o + 12) | FUSE_INIT_EXT);
        reply.putInt(o + 32, FLAGS2_PASSTHROUGH);
        reply.putInt(o + 36, 1); // max_stack_depth: backing files on an ordinary file system
        reply.putInt(0, o + INIT_OUT);
        active = true;
        log.info("kernel FUSE passthrough on: cached files are read from the object cache directly");
        return o + INIT_OUT;
    }

    /**
     * How {@code path}, just opened as {@code handle}, is to be served: the backing id to pass it
     * through to, or 0 for the daemon. {@code cacheFile} is the verified cache file when the
     * object was cached at open (null otherwise). The answer is also left for
     * {@link #takePending} (the same thread amends the OPEN reply).
     */
    synchronized int open(String path, long handle, Path cacheFile) {
        Node n = nodes.computeIfAbsent(path, p -> new Node());
        boolean through;
        if (n.passthroughOpens > 0) {
            through = true; // the kernel holds this inode to that backing file
        } else if (n.cachedOpens > 0 || cacheFile == null || !active || NO_RELAY.get()[0]) {
            through = false;
        } else {
            n.backingId = register(cacheFile);
            through = n.backingId > 0;
        }
        if (through) {
            n.passthroughOpens++;
            opened.incrementAndGet();
        } else {
            n.cachedOpens++;
        }
        handles.put(handle, new Opened(path, n, through));
        int id = through ? n.backingId : 0;
        PENDING.get()[0] = id;
        return id;
    }

    /** Runs {@code r} (processing a request) with passthrough refused for the opens it makes. */
    static void withoutRelay(Runnable r) {
        boolean[] f = NO_RELAY.get();
        f[0] = true;
        try {
            r.run();
        } finally {
            f[0] = false;
        }
    }

    /** The backing id {@link #open} chose on this thread for the reply being sent, once. */
    static int takePending() {
        int[] p = PENDING.get();
        int id = p[0];
        p[0] = 0;
        return id;
    }

    /** Adds passthrough to an OPEN reply ({@code len} bytes in {@code reply}). */
    static void amendOpen(Pointer reply, int len, int backingId) {
        if (len >= OUT_HEADER + 16 && reply.getInt(4) == 0) {
            int flags = reply.getInt(OUT_HEADER + 8);
            reply.putInt(OUT_HEADER + 8, (flags & ~FOPEN_KEEP_CACHE) | FOPEN_PASSTHROUGH);
            reply.putInt(OUT_HEADER + 12, backingId);
        }
    }

    /** A handle closed: its path's last passthrough open gives the backing file back. */
    synchronized void release(long handle) {
        Opened o = handles.remove(handle);
        if (o == null) {
            return;
        }
        Node n = o.node();
        if (o.passthrough()) {
            if (--n.passthroughOpens == 0) {
                unregister(n.backingId);
                n.backingId = 0;
            }
        } else {
            n.cachedOpens--;
        }
        if (n.passthroughOpens == 0 && n.cachedOpens == 0) {
            nodes.remove(o.path(), n);
        }
    }

    private int register(Path file) {
        LibC c = libc();
        int fd = c.open(file.toString(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            log.debug("passthrough: cannot open {} (errno {})", file, runtime.getLastError());
            return 0;
        }
        try {
            Pointer map = Memory.allocateDirect(runtime, 16, true);
            map.putInt(0, fd);
            int id = c.ioctl(devFd, BACKING_OPEN, map);
            if (id <= 0) {
                int err = runtime.getLastError();
                if (err == EPERM || err == ELOOP) {
                    // No permission, or the cache is on a stacked file system (overlayfs, as in
                    // many containers) deeper than passthrough allows: it will not work later either.
                    active = false;
                    log.info("kernel FUSE passthrough refused ({}): reads go through the daemon",
                            err == EPERM ? "no permission" : "the object cache is on a stacked file system");
                } else {
                    log.debug("passthrough: registering {} failed (errno {})", file, err);
                }
                return 0;
            }
            return id;
        } finally {
            c.close(fd);
        }
    }

    private void unregister(int id) {
        if (id <= 0) {
            return;
        }
        Pointer arg = Memory.allocateDirect(runtime, 4);
        arg.putInt(0, id);
        if (libc().ioctl(devFd, BACKING_CLOSE, arg) < 0) {
            log.debug("passthrough: closing backing id {} failed (errno {})", id, runtime.getLastError());
        }
    }

    /**
     * A pipe that libfuse writes one reply into (as if it were the FUSE device), so that the
     * reply can be amended before it goes to the kernel. One per worker thread.
     */
    static final class Relay implements AutoCloseable {
        private final SessionLoop.LibFuseSession fuse;
        final Pointer chan;
        private final int readFd;
        private final Pointer scratch;

        Relay(SessionLoop.LibFuseSession fuse, Runtime runtime) throws java.io.IOException {
            this.fuse = fuse;
            int[] fds = new int[2];
            // Non-blocking: when libfuse sent no reply, taking it finds the pipe empty.
            if (libc().pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
                throw new java.io.IOException("pipe2 failed (errno " + Runtime.getRuntime(libc()).getLastError() + ")");
            }
            readFd = fds[0];
            chan = fuse.fuse_kern_chan_new(fds[1]); // owns the write end from here on
            if (chan == null) {
                libc().close(fds[0]);
                libc().close(fds[1]);
                throw new java.io.IOException("libfuse could not make a channel");
            }
            scratch = Memory.allocateDirect(runtime, 4096, true);
        }

        /**
         * The reply libfuse wrote (one writev, far below PIPE_BUF, so the pipe keeps it whole),
         * now in {@link #buffer}: its length, or 0 when none was written.
         */
        int take() {
            long n = libc().read(readFd, scratch, 4096);
            return n < 0 ? 0 : (int) n;
        }

        Pointer buffer() {
            return scratch;
        }

        @Override
        public void close() {
            fuse.fuse_chan_destroy(chan); // closes the write end
            libc().close(readFd);
        }
    }
}
