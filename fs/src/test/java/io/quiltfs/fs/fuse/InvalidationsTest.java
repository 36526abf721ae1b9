package io.quiltfs.fs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
            inv.drop(List.of(1L, 2L, 3L), 10_000);
            inv.drop(List.of(4L), 10_000);
            assertEquals(List.of(1L, 2L, 3L, 4L), sent);
            senders.forEach(t -> assertNotSame(Thread.currentThread(), t));
        }
    }

    /** A drop the kernel holds up (it waits for a request) lets its caller answer anyway. */
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
            inv.drop(List.of(7L, 8L), 1); // returns while the first is still held up
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            assertEquals(List.of(), sent);
        } finally {
            inv.close(); // at unmount: the one in flight ends (the kernel answers it), the rest is not sent
        }
        assertEquals(List.of(7L), sent);
        inv.drop(List.of(9L), 10_000); // after unmount: nothing is sent, nothing waits
        assertEquals(List.of(7L), sent);
    }
}
