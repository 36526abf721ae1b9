package io.quiltfs.store.state;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HomeLockTest {
    @TempDir
    Path tmp;

    /** tryAcquire never waits: a lock held by another thread, or by the asking thread itself, is busy. */
    @Test
    void tryAcquireSaysBusyInsteadOfWaitingOrFailing() throws Exception {
        Path file = tmp.resolve("locks/x.lock");
        try (HomeLock held = HomeLock.acquire(file)) {
            assertFalse(otherProcessGets(file));
            assertNull(HomeLock.tryAcquire(file), "held by this thread: busy, not an exception");
            assertFalse(otherProcessGets(file), "asking again from the holding thread must not drop the OS lock");
            assertThrows(IllegalStateException.class, () -> HomeLock.acquire(file));
            assertFalse(otherProcessGets(file));
            assertNull(CompletableFuture.supplyAsync(() -> {
                try {
                    return HomeLock.tryAcquire(file);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).get(), "held by another thread: busy");
        }
        assertTrue(otherProcessGets(file), "released");
        try (HomeLock again = HomeLock.tryAcquire(file)) {
            assertNotNull(again, "free again once released");
        }
    }

    /** Whether another process can take the OS lock (fcntl, as the JVM's file locks) right now. */
    private static boolean otherProcessGets(Path file) throws Exception {
        Process p = new ProcessBuilder("python3", "-c",
                "import fcntl,sys\nf=open(sys.argv[1],'a')\ntry:\n fcntl.lockf(f, fcntl.LOCK_EX|fcntl.LOCK_NB)\n"
                        + "except OSError:\n sys.exit(1)\n", file.toString())
                .redirectErrorStream(true).start();
        return p.waitFor() == 0;
    }
}
