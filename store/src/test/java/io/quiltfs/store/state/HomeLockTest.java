package io.quiltfs.store.state;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

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
            assertNull(HomeLock.tryAcquire(file), "held by this thread: busy, not an exception");
            assertNull(CompletableFuture.supplyAsync(() -> {
                try {
                    return HomeLock.tryAcquire(file);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).get(), "held by another thread: busy");
        }
        try (HomeLock again = HomeLock.tryAcquire(file)) {
            assertNotNull(again, "free again once released");
        }
    }
}
