package io.quiltfs.fs.fuse;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Kernel cache drops sent from their own thread, in order, never holding up their caller for long. */
class InvalidationsTest {

    @Test
    void dropsAreSentInOrderFromAThreadOfTheirOwn() {
        List<Long> sent = new CopyOnWriteArrayList<>();
        List<Thread> senders = new CopyOnWriteArrayList<>();
        try (Invalidations inv = new Invalidations("t", node -> {
            sent.add(node);
            senders.add(Thread.currentThread());
            return node == 2 ? -2 : node == 3 ? -5 : 0; // ENOENT: nothing to drop; EIO: logged once
        })) {
            inv.queue(List.of(1L, 2L, 3L));
            inv.queue(List.of(4L));
            inv.await(10_000);
            assertEquals(List.of(1L, 2L, 3L, 4L), sent);
            senders.forEach(t -> assertNotSame(Thread.currentThread(), t));
        }
    }

    /**
     * A drop the kernel holds up (it waits for a request) holds up neither the thread that queues
     * drops (a pull placing files) nor, for long, the one that waits for them (the pull's answer).
     */
    @Test
    void aDropTheKernelHoldsUpDoesNotHoldUpTheCaller() throws Exception {
        CountDownLatch kernel = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        List<Long> sent = new CopyOnWriteArrayList<>();
        Invalidations inv = new Invalidations("t", node -> {
            entered.countDown();
            try {
                kernel.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sent.add(node);
            return 0;
        });
        try {
            inv.queue(List.of(7L, 8L));
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            inv.queue(List.of(9L)); // returns while the first is still held up
            inv.await(1); // gives up waiting
            assertEquals(List.of(), sent);
        } finally {
            inv.close(); // at unmount: the one in flight ends (the kernel answers it), the rest is not sent
        }
        assertEquals(List.of(7L), sent);
        assertTrue(inv.ended());
        inv.queue(List.of(10L)); // after unmount: nothing is sent, nothing waits
        inv.await(10_000);
        assertEquals(List.of(7L), sent);
    }

    /** Drops queued one by one (as a pull places each file) are all sent once {@code await} returns. */
    @Test
    void awaitReturnsOnceEveryDropQueuedBeforeItIsSent() {
        CountDownLatch kernel = new CountDownLatch(1);
        List<Long> sent = new CopyOnWriteArrayList<>();
        try (Invalidations inv = new Invalidations("t", node -> {
            try {
                kernel.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sent.add(node);
            return 0;
        })) {
            inv.queue(List.of(1L));
            inv.queue(List.of(2L, 3L));
            assertEquals(List.of(), sent, "queued, not yet sent: the caller did not wait");
            kernel.countDown();
            inv.await(60_000);
            assertEquals(List.of(1L, 2L, 3L), sent);
        }
    }

    /**
     * A notification that does not end (stuck inside libfuse, deaf to interrupts) is reported by
     * {@link Invalidations#ended}: the session loop then does not free the session under it.
     */
    @Test
    void aNotificationThatDoesNotEndIsReportedAtClose() {
        CountDownLatch kernel = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        Invalidations inv = new Invalidations("t", node -> {
            entered.countDown();
            while (true) {
                try {
                    kernel.await();
                    return 0;
                } catch (InterruptedException e) {
                    // native code does not see interrupts either
                }
            }
        }, 10);
        try {
            inv.queue(List.of(1L));
            assertTrue(assertDoesNotThrow(() -> entered.await(10, TimeUnit.SECONDS)));
            inv.close();
            assertFalse(inv.ended(), "still inside the notification");
        } finally {
            kernel.countDown();
        }
        inv.close();
        // The thread leaves the notification once the kernel lets it go; on a loaded machine that
        // may take longer than the close's own wait, so it is waited for here with a deadline.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!inv.ended() && System.nanoTime() < deadline) {
            assertDoesNotThrow(() -> Thread.sleep(10));
        }
        assertTrue(inv.ended());
    }
}
