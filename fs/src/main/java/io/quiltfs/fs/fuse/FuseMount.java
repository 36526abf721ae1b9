package io.quiltfs.fs.fuse;

import io.quiltfs.fs.PackageFs;
import io.quiltfs.store.state.MountTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PackageFs} mounted with libfuse through jnr-fuse: mounts read-only with long
 * attribute and entry timeouts (a revision never changes), cleans a stale mount point first,
 * and unmounts with a timeout. With {@code autoUnmount}, libfuse's helper removes the mount
 * even when the process dies by SIGKILL.
 */
public final class FuseMount implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FuseMount.class);
    private static final long READY_TIMEOUT_MS = 30_000;
    /** Seconds the kernel may trust attributes, entries and absences: revisions are immutable. */
    private static final int CACHE_SECONDS = 3600;
    private static final int READ_AHEAD_KB = 1024;
    /**
     * Serve requests from persistent Java threads ({@link SessionLoop}) rather than through
     * jnr-fuse's fuse_main (a JVM thread attach per request); {@code -Dquiltfs.fuse.loop=jnr}
     * goes back to jnr-fuse's loop.
     */
    private static final boolean PERSISTENT_LOOP = !"jnr".equals(System.getProperty("quiltfs.fuse.loop"));

    private final Path mountpoint;
    private final FuseAdapter adapter;
    private final Thread loop;
    private volatile Throwable failure;
    private volatile Thread shutdownHook;

    private FuseMount(Path mountpoint, FuseAdapter adapter, Thread loop) {
        this.mountpoint = mountpoint;
        this.adapter = adapter;
        this.loop = loop;
    }

    public Path mountpoint() {
        return mountpoint;
    }

    /** Whether the kernel reads cached files of this mount from the cache directly (FUSE passthrough). */
    public boolean passthroughActive() {
        Passthrough pt = adapter.passthrough;
        return pt != null && pt.active();
    }

    /** Read requests the mount's process has served since the mount. */
    public long daemonReads() {
        return adapter.reads.sum();
    }

    /** Opens the kernel has passed through to cache files since the mount. */
    public long passedThrough() {
        Passthrough pt = adapter.passthrough;
        return pt == null ? 0 : pt.passedThrough();
    }

    /** Mounts and returns once the kernel talks to the file system. */
    /**
     * Loads libfuse and has jnr generate its call stubs and callback closures on a background
     * thread, so that this work (about half a second) overlaps whatever the caller does before
     * {@link #mount} (reading the manifest). Best effort: {@link #mount} does it anyway.
     */
    public static void warmUp() {
        Thread t = new Thread(() -> {
            try {
                SessionLoop.lib();
                new ru.serce.jnrfuse.FuseStubFS();
            } catch (Throwable e) {
                log.debug("FUSE warm-up failed (the mount will report it): {}", e.toString());
            }
        }, "quiltfs-fuse-warmup");
        t.setDaemon(true);
        t.start();
    }

    public static FuseMount mount(PackageFs fs, Path mountpoint, boolean autoUnmount) throws IOException {
        Path mp = mountpoint.toAbsolutePath().normalize();
        prepare(mp);
        long uid = ((Number) Files.getAttribute(Paths.get("/proc/self"), "unix:uid")).longValue();
        long gid = ((Number) Files.getAttribute(Paths.get("/proc/self"), "unix:gid")).longValue();
        FuseAdapter adapter = new FuseAdapter(fs, uid, gid);
        List<String> opts = new ArrayList<>();
        opts.add("-o");
        // An editable tree changes under commits and pulls too: the kernel trusts what it saw
        // for a second only. Writes arrive in 128 KiB requests with big_writes (4 KiB without).
        int ttl = fs.editable() ? 1 : CACHE_SECONDS;
        opts.add((fs.editable() ? "big_writes" : "ro") + ",fsname=quiltfs:" + fs.packageName() + ",subtype=quiltfs"
                + ",attr_timeout=" + ttl + ",entry_timeout=" + ttl
                + ",negative_timeout=" + ttl + ",max_readahead=" + (READ_AHEAD_KB * 1024)
                + (autoUnmount ? ",auto_unmount" : ""));
        String[] args = opts.toArray(new String[0]);
        FuseMount[] self = new FuseMount[1];
        String[] argv = new String[args.length + 3];
        argv[0] = "quiltfs";
        argv[1] = "-f";
        System.arraycopy(args, 0, argv, 2, args.length);
        argv[argv.length - 1] = mp.toString();
        Thread loop = new Thread(() -> {
            try {
                if (PERSISTENT_LOOP) {
                    SessionLoop session = SessionLoop.start(adapter, argv, mp.getFileName().toString(), !fs.editable());
                    if (session == null) {
                        throw new IOException("libfuse refused to mount (its reason is just above in the log)");
                    }
                    session.join();
                } else {
                    adapter.mount(mp, true, false, args);
                }
            } catch (Throwable t) {
                self[0].failure = t;
            } finally {
                adapter.ready.countDown();
            }
        }, "quiltfs-fuse-" + mp.getFileName());
        self[0] = new FuseMount(mp, adapter, loop);
        loop.setDaemon(true);
        loop.start();
        try {
            if (!adapter.ready.await(READY_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                self[0].close();
                throw new IOException("mounting " + mp + " did not finish within " + READY_TIMEOUT_MS / 1000 + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while mounting " + mp);
        }
        if (self[0].failure != null || !loop.isAlive()) {
            Throwable f = self[0].failure;
            throw new IOException("cannot mount at " + mp + (f == null ? "" : ": " + f.getMessage()), f);
        }
        raiseReadAhead(mp);
        FuseMount m = self[0];
        // On SIGTERM or Ctrl-C the JVM runs its hooks: detach the mount so that none is left
        // behind (auto_unmount covers SIGKILL).
        m.shutdownHook = new Thread(() -> {
            try {
                if (m.loop.isAlive() && MountTable.at(mp) != null) {
                    unmount(mp, true);
                }
            } catch (IOException | RuntimeException ignored) {
                // the JVM is going away; auto_unmount is the last line of defence
            }
        }, "quiltfs-unmount-" + mp.getFileName());
        Runtime.getRuntime().addShutdownHook(m.shutdownHook);
        log.info("mounted {} at {}", fs.packageName() + "@" + fs.topHash(), mp);
        return self[0];
    }

    /**
     * Lets the kernel read ahead 1 MiB instead of 128 KiB on this mount (fewer, larger reads
     * reach user space: measured 2,450 to 2,600+ MiB/s). Best effort: needs write access to
     * the mount's {@code /sys/class/bdi} entry, which only root has.
     */
    private static void raiseReadAhead(Path mp) {
        try {
            MountTable.Mount m = MountTable.at(mp);
            if (m != null) {
                Path ra = Paths.get("/sys/class/bdi", m.device(), "read_ahead_kb");
                if (Files.isWritable(ra)) {
                    Files.writeString(ra, READ_AHEAD_KB + "\n");
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("cannot raise the read-ahead of {}: {}", mp, e.getMessage());
        }
    }

    /** Refuses a live mount point, cleans a stale one, requires an existing folder. */
    static void prepare(Path mp) throws IOException {
        MountTable.Mount m = MountTable.at(mp);
        if (m != null) {
            if (isStale(mp)) {
                log.info("{} is a stale mount (its process is gone); cleaning it", mp);
                cleanStale(mp);
            } else {
                throw new MountPointBusy(mp + " already has a " + m.fsType() + " file system mounted (from "
                        + m.source() + "); unmount it first (`quiltfs unmount " + mp + "`)");
            }
        }
        if (!Files.isDirectory(mp)) {
            throw new java.nio.file.NoSuchFileException(mp.toString(), null, "the mount point must be an existing folder");
        }
        try (java.util.stream.Stream<Path> s = Files.list(mp)) {
            if (s.findAny().isPresent()) {
                throw new MountPointBusy("mount point " + mp + " is not empty: mount on an empty folder"
                        + " (a mount would hide what is there)");
            }
        }
    }

    /** A mount point already in use. */
    public static final class MountPointBusy extends IOException {
        public MountPointBusy(String message) {
            super(message);
        }
    }

    /** Whether the path is a mount whose file system no longer answers ("Transport endpoint is not connected"). */
    public static boolean isStale(Path mp) {
        try {
            Files.readAttributes(mp, java.nio.file.attribute.BasicFileAttributes.class);
            return false;
        } catch (IOException e) {
            String msg = String.valueOf(e.getMessage());
            return msg.contains("not connected") || msg.contains("Transport endpoint");
        }
    }

    /** Detaches a stale mount. */
    public static void cleanStale(Path mp) throws IOException {
        if (run(10, "fusermount", "-u", "-z", mp.toString()) != 0 && MountTable.at(mp) != null) {
            run(10, "umount", "-l", mp.toString());
        }
        if (MountTable.at(mp) != null) {
            throw new IOException("cannot clean the stale mount at " + mp + " (try `fusermount -u -z " + mp + "`)");
        }
    }

    /**
     * Unmounts whatever FUSE file system is at {@code mp}. Returns null on success, else why
     * it failed (a busy mount point, without {@code lazy}).
     */
    public static String unmount(Path mp, boolean lazy) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("fusermount", "-u"));
        if (lazy) {
            cmd.add("-z");
        }
        cmd.add(mp.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Process p = pb.start();
        String out;
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "fusermount did not finish within 10 s";
            }
            out = new String(p.getInputStream().readAllBytes()).trim();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while unmounting " + mp);
        }
        if (p.exitValue() == 0) {
            return null;
        }
        int fallback = lazy ? run(10, "umount", "-l", mp.toString()) : run(10, "umount", mp.toString());
        if (MountTable.at(mp) == null || fallback == 0) {
            return null;
        }
        return out.isEmpty() ? "fusermount exited with " + p.exitValue() : out;
    }

    private static int run(int seconds, String... cmd) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        } catch (Exception e) {
            return -1;
        }
    }

    /** Blocks until the file system is unmounted (by {@code quiltfs unmount}, fusermount, or a signal). */
    public void awaitUnmounted() throws InterruptedException {
        loop.join();
    }

    /** Unmounts (lazily if busy) and waits, at most about 20 s, for the FUSE loop to end. */
    @Override
    public void close() throws IOException {
        Thread hook = shutdownHook;
        if (hook != null && hook != Thread.currentThread()) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
        if (loop.isAlive() || MountTable.at(mountpoint) != null) {
            String why = unmount(mountpoint, false);
            if (why != null) {
                log.warn("unmounting {}: {}; detaching lazily", mountpoint, why);
                unmount(mountpoint, true);
            }
        }
        try {
            loop.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (loop.isAlive()) {
            log.warn("the FUSE loop of {} did not stop within 10 s", mountpoint);
        }
    }
}
