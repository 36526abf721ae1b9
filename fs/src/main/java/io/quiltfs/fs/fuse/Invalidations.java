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
 * libfuse's session (whose channel it writes to) is torn down.
 */
final class Invalidations implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Invalidations.class);
    /** Errno libfuse returns when the kernel no longer knows the node: nothing left to drop. */
    private static final int ENOENT = 2;

    private final LongToIntFunction notify;
    private final ThreadPoolExecutor thread;
    private final AtomicBoolean warned = new AtomicBoolean();

    /** {@code notify}: sends one notification for a kernel node, returns 0 or -errno. */
    Invalidations(String name, LongToIntFunction notify) {
        this.notify = notify;
        this.thread = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "quiltfs-invalidate-" + name);
            t.setDaemon(true);
            return t;
        });
        thread.allowCoreThreadTimeOut(true); // no idle thread per mount between pulls
    }

    /**
     * Queues a drop of each node's pages and attributes and waits at most {@code waitMillis} for
     * them to be sent: usually the caller's answer (the control file's reply) then follows the
     * drops, but never waits on a kernel that waits on it. Nothing is sent after {@link #close}.
     */
    void drop(List<Long> nodes, long waitMillis) {
        if (nodes.isEmpty()) {
            return;
        }
        CompletableFuture<Void> sent;
        try {
            sent = CompletableFuture.runAsync(() -> {
                for (long node : nodes) {
                    if (Thread.currentThread().isInterrupted()) {
                        return; // unmounting
                    }
                    send(node);
                }
            }, thread);
        } catch (RejectedExecutionException closed) {
            return; // unmounting: the kernel drops everything anyway
        }
        try {
            sent.get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException slow) {
            log.debug("the kernel has not taken {} cache drop(s) within {} ms; they follow", nodes.size(), waitMillis);
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

    /** Sends nothing more; waits a little for a notification in flight (the kernel answers it at unmount). */
    @Override
    public void close() {
        thread.shutdownNow();
        try {
            if (!thread.awaitTermination(5, TimeUnit.SECONDS)) {
                log.warn("a kernel cache drop was still in flight at unmount");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
