package io.quiltfs.fs.fuse;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;
import jnr.ffi.byref.IntByReference;
import jnr.ffi.byref.PointerByReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libfuse2's session loop driven from persistent Java threads. jnr-fuse's own loop
 * ({@code fuse_main}) runs callbacks on libfuse's threads, which are attached to the JVM afresh
 * for every request; here each worker is a Java thread that receives a request from the kernel
 * and processes it itself, so a callback costs no thread attach. Like libfuse's multithreaded
 * loop, a new worker starts whenever every worker is busy (a slow fetch must not block an
 * {@code ls}). Workers answering a READ do not count against {@link #MAX_WORKERS}: such a read
 * may wait, within the stall deadline, for a fetch (the read that reaches the end of a file waits
 * for the whole object), and however many do, up to {@link #MAX_WORKERS} other requests
 * ({@code ls}, {@code stat}, reads of cached files) still find a worker. {@link #MAX_THREADS}
 * bounds the whole (each worker holds a request buffer of about 132 KiB).
 *
 * <p>The loop ends when the file system is unmounted (the kernel answers reads of the channel
 * with ENODEV); then {@code fuse_teardown} releases libfuse's state, unless a kernel cache drop
 * is still inside libfuse ({@link Invalidations#ended}): the session is then leaked, never freed
 * under it.
 */
final class SessionLoop {
    private static final Logger log = LoggerFactory.getLogger(SessionLoop.class);
    /** Workers for anything but READ requests. */
    static final int MAX_WORKERS = 64;
    /** Workers in all. */
    static final int MAX_THREADS = 256;
    private static final int FUSE_READ = 15;
    private static final int FUSE_WRITE = 16;
    private static final int FUSE_LOOKUP = 1;
    /** sizeof(struct fuse_buf) on 64-bit Linux: size_t size; int flags; void *mem; int fd; off_t pos. */
    private static final int FUSE_BUF_SIZE = 40;
    private static final int EINTR = 4;
    private static final int ENOENT = 2;
    private static final int EIO = 5;

    /** The libfuse2 functions the loop needs (jnr-fuse binds only fuse_main_real). */
    public interface LibFuseSession {
        Pointer fuse_setup(int argc, String[] argv, Pointer op, long opSize, PointerByReference mountpoint,
                           IntByReference multithreaded, Pointer userData);

        void fuse_teardown(Pointer fuse, Pointer mountpoint);

        Pointer fuse_get_session(Pointer fuse);

        Pointer fuse_session_next_chan(Pointer se, Pointer ch);

        long fuse_chan_bufsize(Pointer ch);

        int fuse_session_receive_buf(Pointer se, Pointer buf, PointerByReference chp);

        void fuse_session_process_buf(Pointer se, Pointer buf, Pointer ch);

        int fuse_session_exited(Pointer se);

        void fuse_session_exit(Pointer se);

        int fuse_chan_fd(Pointer ch);

        Pointer fuse_kern_chan_new(int fd);

        void fuse_chan_destroy(Pointer ch);

        int fuse_lowlevel_notify_inval_inode(Pointer ch, long ino, long off, long len);

        /** libfuse sends {@code namelen + 1} bytes of {@code name}: it must end with a NUL. */
        int fuse_lowlevel_notify_inval_entry(Pointer ch, long parent, @jnr.ffi.annotations.In byte[] name,
                                             long namelen);
    }

    private static volatile LibFuseSession lib;

    private final Runtime runtime = Runtime.getSystemRuntime();
    private final Pointer fuse;
    private final Pointer mountpointC;
    private final Pointer session;
    private final Pointer channel;
    private final long bufSize;
    private final String name;
    private final AtomicInteger workers = new AtomicInteger();
    private final AtomicInteger idle = new AtomicInteger();
    /** Workers answering a READ now. */
    private final AtomicInteger reading = new AtomicInteger();
    private final List<Thread> threads = new ArrayList<>();
    private final Object lock = new Object();
    /** Kept reachable: libfuse holds the operations' closures for as long as it runs. */
    private final FuseAdapter fs;
    /** Amends INIT and OPEN replies on a read-only mount (null: replies go to the kernel as libfuse writes them). */
    private final Passthrough passthrough;
    private final int devFd;

    private SessionLoop(FuseAdapter fs, Pointer fuse, Pointer mountpointC, String name, boolean mayPassThrough) {
        this.fs = fs;
        this.fuse = fuse;
        this.mountpointC = mountpointC;
        this.name = name;
        this.session = lib.fuse_get_session(fuse);
        this.channel = lib.fuse_session_next_chan(session, null);
        this.bufSize = lib.fuse_chan_bufsize(channel);
        this.devFd = lib.fuse_chan_fd(channel);
        this.passthrough = mayPassThrough ? Passthrough.forMount(devFd) : null;
        fs.passthrough = passthrough;
        fs.invalidations = new Invalidations(name, this::invalidateInode, this::invalidateEntry);
    }

    static LibFuseSession lib() {
        LibFuseSession l = lib;
        if (l == null) {
            synchronized (SessionLoop.class) {
                if (lib == null) {
                    lib = LibraryLoader.create(LibFuseSession.class).failImmediately().load("fuse");
                }
                l = lib;
            }
        }
        return l;
    }

    /**
     * Mounts (fuse_setup: parses the options, mounts, builds the session) and starts the first
     * worker; returns null when libfuse refused (its reason is on stderr).
     */
    static SessionLoop start(FuseAdapter fs, String[] argv, String name, boolean mayPassThrough) {
        LibFuseSession l = lib();
        Struct ops = fs.operations();
        Pointer opsMem = Struct.getMemory(ops);
        PointerByReference mp = new PointerByReference();
        IntByReference mt = new IntByReference();
        Pointer fuse = l.fuse_setup(argv.length, argv, opsMem, Struct.size(ops), mp, mt, null);
        if (fuse == null) {
            return null;
        }
        SessionLoop loop = new SessionLoop(fs, fuse, mp.getValue(), name, mayPassThrough);
        loop.spawn();
        return loop;
    }

    /** Whether another worker may start, with {@code workers} running and {@code reading} of them in a READ. */
    static boolean mayStart(int workers, int reading) {
        return workers < MAX_THREADS && workers - reading < MAX_WORKERS;
    }

    private void spawn() {
        synchronized (lock) {
            if (!mayStart(workers.get(), reading.get())) {
                return;
            }
            workers.incrementAndGet();
            idle.incrementAndGet();
            Thread t = new Thread(this::work, "quiltfs-fuse-" + name + "-" + threads.size());
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    private void work() {
        Pointer mem = Memory.allocateDirect(runtime, (int) bufSize);
        Pointer buf = Memory.allocateDirect(runtime, FUSE_BUF_SIZE);
        Passthrough.Relay relay = null;
        try {
            while (lib.fuse_session_exited(session) == 0) {
                buf.putLong(0, bufSize);
                buf.putInt(8, 0);
                buf.putAddress(16, mem.address());
                buf.putInt(24, -1);
                buf.putLong(32, 0);
                PointerByReference ch = new PointerByReference(channel);
                int res = lib.fuse_session_receive_buf(session, buf, ch);
                if (res == -EINTR) {
                    continue;
                }
                if (res <= 0) {
                    if (res < 0) {
                        log.warn("reading FUSE requests failed (errno {}); stopping", -res);
                        lib.fuse_session_exit(session);
                    }
                    break;
                }
                int opcode = mem.getInt(4);
                boolean read = opcode == FUSE_READ;
                if (read) {
                    reading.incrementAndGet();
                }
                if (idle.decrementAndGet() == 0) {
                    spawn(); // everyone is busy: the next request gets a fresh worker
                }
                // The file's node: OPEN names it, and so do READ and WRITE (a file made by CREATE is
                // known only from them: CREATE's header names its folder).
                boolean open = opcode == Passthrough.FUSE_OPEN || read || opcode == FUSE_WRITE;
                if (open) {
                    FuseAdapter.OPENING.get()[0] = mem.getLong(16); // fuse_in_header's nodeid
                }
                boolean lookup = opcode == FUSE_LOOKUP;
                if (lookup) {
                    FuseAdapter.LOOKING_IN.get()[0] = mem.getLong(16); // the folder looked in
                }
                try {
                    Passthrough pt = passthrough;
                    // Every OPEN is relayed, even once passthrough turned itself off: a path already
                    // open through it keeps passing through until closed.
                    if (pt != null && (opcode == Passthrough.FUSE_INIT || opcode == Passthrough.FUSE_OPEN)) {
                        if (relay == null) {
                            relay = newRelay();
                        }
                        if (relay != null) {
                            relayed(pt, relay, buf, mem, opcode);
                        } else {
                            Passthrough.withoutRelay(() -> lib.fuse_session_process_buf(session, buf, ch.getValue()));
                            fs.ready.countDown();
                        }
                    } else {
                        lib.fuse_session_process_buf(session, buf, ch.getValue());
                    }
                } finally {
                    if (open) {
                        FuseAdapter.OPENING.get()[0] = 0;
                    }
                    if (lookup) {
                        FuseAdapter.LOOKING_IN.get()[0] = 0;
                    }
                    if (read) {
                        reading.decrementAndGet();
                    }
                    idle.incrementAndGet();
                }
            }
        } catch (Throwable t) {
            log.error("a FUSE worker failed", t);
            lib.fuse_session_exit(session);
        } finally {
            if (relay != null) {
                relay.close();
            }
            idle.decrementAndGet();
            workers.decrementAndGet();
        }
    }

    /**
     * Processes an INIT or OPEN request with libfuse replying into the relay's pipe, amends the
     * reply for passthrough, and sends it to the kernel.
     */
    private void relayed(Passthrough pt, Passthrough.Relay relay, Pointer buf, Pointer req, int opcode) {
        Passthrough.takePending(); // nothing left over from an open that failed before replying
        try {
            relay(pt, relay, buf, req, opcode);
        } finally {
            if (opcode == Passthrough.FUSE_INIT) {
                fs.ready.countDown(); // the mount is ready once the kernel has the INIT reply
            }
        }
    }

    private void relay(Passthrough pt, Passthrough.Relay relay, Pointer buf, Pointer req, int opcode) {
        lib.fuse_session_process_buf(session, buf, relay.chan);
        int len = relay.take();
        if (len <= 0) {
            return; // libfuse sent no reply (an interrupted request)
        }
        Pointer reply = relay.buffer();
        long openedHandle = -1;
        if (opcode == Passthrough.FUSE_INIT) {
            len = pt.amendInit(req, reply, len);
        } else {
            int backingId = Passthrough.takePending();
            if (backingId > 0) {
                Passthrough.amendOpen(reply, len, backingId);
            }
            if (reply.getInt(4) == 0 && len >= 24) {
                openedHandle = reply.getLong(16);
            }
        }
        if (Passthrough.libc().write(devFd, reply, len) >= 0) {
            return;
        }
        int err = Runtime.getRuntime(Passthrough.libc()).getLastError();
        if (err != ENOENT) {
            // The kernel refused the reply: answer EIO instead, so that the caller does not wait forever.
            log.warn("sending a FUSE reply failed (errno {}); answering EIO", err);
            reply.putInt(0, 16);
            reply.putInt(4, -EIO);
            Passthrough.libc().write(devFd, reply, 16);
        }
        if (openedHandle >= 0) {
            // Nobody will close this handle (ENOENT: the open was interrupted). libfuse's own
            // count of the node's opens stays one up; on a read-only mount nothing reads it.
            try {
                fs.releaseHandle(openedHandle);
            } catch (java.io.IOException | RuntimeException e) {
                log.warn("closing an abandoned open failed: {}", e.toString());
            }
        }
    }

    /** This worker's relay, or null (logged) when no pipe can be made: then nothing passes through. */
    private Passthrough.Relay newRelay() {
        try {
            return new Passthrough.Relay(lib, runtime);
        } catch (java.io.IOException | RuntimeException e) {
            log.warn("cannot relay FUSE replies on this thread ({}): its opens go through the daemon", e.toString());
            return null;
        }
    }

    /** Waits for every worker to stop (after unmount), then releases libfuse's state (see the class comment). */
    void join() throws InterruptedException {
        while (true) {
            List<Thread> ts;
            synchronized (lock) {
                ts = new ArrayList<>(threads);
            }
            for (Thread t : ts) {
                t.join();
            }
            synchronized (lock) {
                if (threads.size() == ts.size()) {
                    break;
                }
            }
        }
        Invalidations inv = fs.invalidations;
        inv.close(); // it writes to the channel that fuse_teardown frees
        if (!inv.ended()) {
            // A notification still inside libfuse would write through freed memory: leak the
            // session (a few KiB and the channel's descriptor; the kernel side is unmounted).
            log.warn("a kernel cache drop of {} was still in flight at unmount: libfuse's session is left"
                    + " allocated rather than freed under it", name);
            return;
        }
        lib.fuse_teardown(fuse, mountpointC);
    }

    /** Tells the kernel to drop the cached pages and attributes of node {@code nodeid}: 0 or -errno. */
    int invalidateInode(long nodeid) {
        return lib.fuse_lowlevel_notify_inval_inode(channel, nodeid, 0, 0);
    }

    /** Tells the kernel to forget the name (or the absence of it) it cached in folder {@code parent}: 0 or -errno. */
    int invalidateEntry(Invalidations.Name n) {
        return lib.fuse_lowlevel_notify_inval_entry(channel, n.parent(), nulTerminated(n.name()), n.name().length);
    }

    /**
     * {@code name} and a NUL: libfuse's notify_inval_entry sends namelen + 1 bytes (the kernel
     * reads the NUL too), which from the bare name would be a byte past the copy jnr-ffi makes.
     */
    static byte[] nulTerminated(byte[] name) {
        return java.util.Arrays.copyOf(name, name.length + 1);
    }

    int workerCount() {
        return workers.get();
    }
}
