package io.quiltfs.fs.fuse;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The kernel cache drops ({@code notify_inval_inode}) a mount still has to send, sent in order
 * from one thread of their own. Such a notification may wait until the kernel releases the
 * file's page locks, and the kernel may be waiting for a FUSE request meanwhile: sent from a
 * worker that serves a request (the control file's write) or holds a lock (the package's, the
 * tree's), it could hold up the very request the kernel waits for. The thread holds no lock
 * while it sends, exists only while there is something to send, and stops at unmount before
 * libfuse's session (whose channel it writes to) is torn down; a thread that does not stop keeps
 * the session from being torn down at all ({@link #ended}).
 */
final class Invalidations implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Invalidations.class);
    /** Errno libfuse returns when the kernel no longer knows the node: nothing left to drop. */
    private static final int ENOENT = 2;

    private final LongToIntFunction notify;
    private final java.util.function.ToIntFunction<Name> notifyEntry;

    /** A name the kernel may hold (or hold as absent) in a folder: the folder's node and the name's bytes. */
    record Name(long parent, byte[] name) {
    }
    private final ThreadPoolExecutor thread;
    private final AtomicBoolean warned = new AtomicBoolean();

    /** How long {@link #close} waits for a notification in flight. */
    private final long closeWaitMillis;

    /** {@code notify}: sends one notification for a kernel node, returns 0 or -errno. */
    Invalidations(String name, LongToIntFunction notify) {
        this(name, notify, n -> 0, 5_000);
    }

    /** {@code notifyEntry}: sends one notification for a name in a folder, returns 0 or -errno. */
    Invalidations(String name, LongToIntFunction notify, java.util.function.ToIntFunction<Name> notifyEntry) {
        this(name, notify, notifyEntry, 5_000);
    }

    Invalidations(String name, LongToIntFunction notify, long closeWaitMillis) {
        this(name, notify, n -> 0, closeWaitMillis);
    }

    Invalidations(String name, LongToIntFunction notify, java.util.function.ToIntFunction<Name> notifyEntry,
                  long closeWaitMillis) {
        this.notify = notify;
        this.notifyEntry = notifyEntry;
        this.closeWaitMillis = closeWaitMillis;
        this.thread = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "quiltfs-invalidate-" + name);
            t.setDaemon(true);
            return t;
        });
        thread.allowCoreThreadTimeOut(true); // no idle thread per mount between pulls
    }

    /**
     * Queues a drop of each node's pages and attributes and returns at once: the caller (a pull
     * placing files, holding the package's lock) never waits on a kernel that may wait on it.
     * Nothing is sent after {@link #close}.
     */
    void queue(List<Long> nodes) {
        if (nodes.isEmpty()) {
            return;
        }
        try {
            thread.execute(() -> {
                for (long node : nodes) {
                    if (Thread.currentThread().isInterrupted()) {
                        return; // unmounting
                    }
                    try {
                        send(node);
                    } catch (RuntimeException e) {
                        warnOnce(e.toString());
                    }
                }
            });
        } catch (RejectedExecutionException closed) {
            // unmounting: the kernel drops everything anyway
        }
    }

    /**
     * Queues a drop of each name the kernel may have cached (present or absent), as {@link #queue}
     * does for nodes: a pull that adds or removes a file changes names under the kernel.
     */
    void queueNames(List<Name> names) {
        if (names.isEmpty()) {
            return;
        }
        try {
            thread.execute(() -> {
                for (Name n : names) {
                    if (Thread.currentThread().isInterrupted()) {
                        return; // unmounting
                    }
                    try {
                        int err = notifyEntry.applyAsInt(n);
                        if (err != 0 && err != -ENOENT) {
                            warnOnce("errno " + -err);
                        }
                    } catch (RuntimeException e) {
                        warnOnce(e.toString());
                    }
                }
            });
        } catch (RejectedExecutionException closed) {
            // unmounting: the kernel drops everything anyway
        }
    }

    /**
     * Waits at most {@code waitMillis} for every drop queued so far to be sent: usually the
     * caller's answer (the control file's reply) then follows the drops, but never waits long
     * on a kernel that waits on it (the drops still follow).
     */
    void await(long waitMillis) {
        CompletableFuture<Void> sent;
        try {
            sent = CompletableFuture.runAsync(() -> { }, thread); // runs once all before it ran: one thread, in order
        } catch (RejectedExecutionException closed) {
            return;
        }
        try {
            sent.get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException slow) {
            log.debug("the kernel has not taken the cache drops queued within {} ms; they follow", waitMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            warnOnce(e.getCause().toString());
        }
    }

    private void send(long node) {
        int err = notify.applyAsInt(node);
        if (err != 0 && err != -ENOENT) {
            warnOnce("errno " + -err);
        }
    }

    private void warnOnce(String why) {
        if (warned.compareAndSet(false, true)) {
            log.warn("dropping the kernel's pages of a changed file failed ({}); descriptors open on it may read"
                    + " old pages until they reopen it (further failures are not logged)", why);
        }
    }

    /**
     * Sends nothing more; waits a little for a notification in flight (the kernel answers it at
     * unmount). {@link #ended} then says whether the thread is gone.
     */
    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(closeWaitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Whether no notification can still be inside libfuse: closed and the thread ended. Until
     * then the session it writes through must not be freed.
     */
    boolean ended() {
        return thread.isTerminated();
    }
}
