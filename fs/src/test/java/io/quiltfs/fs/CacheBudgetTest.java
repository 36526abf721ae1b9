package io.quiltfs.fs;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.state.Home;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CacheBudgetTest {
    @TempDir
    Path tmp;

    Path object(Home home, String name, int kib) throws Exception {
        Path p = home.objects().resolve(name);
        Files.write(p, new byte[kib * 1024]);
        return p;
    }

    @Test
    void evictsBeyondTheLimitAndDeletesWhatItEvicts() throws Exception {
        Home home = new Home(tmp).ensure();
        CacheBudget b = CacheBudget.open(home, 300 * 1024);
        String[] names = {"a", "c", "d", "e"};
        for (String n : names) {
            object(home, n, 100);
            b.touch(n, 100 * 1024);
        }
        b.touch("a", 100 * 1024);
        assertTrue(b.usedBytes() <= 300 * 1024);
        int left = 0;
        for (String n : names) {
            boolean there = Files.exists(home.objects().resolve(n));
            assertTrue(there == b.tracks(n), n + ": on disk exactly when tracked");
            left += there ? 1 : 0;
        }
        assertTrue(left >= 2 && left <= 3, "evicted down to the limit: " + left);
    }

    @Test
    void neverDeletesAPinnedObject() throws Exception {
        Home home = new Home(tmp).ensure();
        CacheBudget b = CacheBudget.open(home, 100 * 1024);
        Path a = object(home, "a", 80);
        b.pin("a");
        b.touch("a", 80 * 1024);
        Path c = object(home, "c", 80);
        b.touch("c", 80 * 1024);
        b.touch("c", 80 * 1024);
        assertTrue(Files.exists(a), "pinned");
        b.unpin("a", 80 * 1024);
        assertTrue(Files.exists(a) != Files.exists(c) || !Files.exists(c), "the limit holds again once unpinned");
    }

    @Test
    void startsFromWhatIsAlreadyCached() throws Exception {
        Home home = new Home(tmp).ensure();
        object(home, "old", 200);
        object(home, "new", 200);
        CacheBudget b = CacheBudget.open(home, 250 * 1024);
        assertTrue(b.usedBytes() <= 250 * 1024);
        assertFalse(Files.exists(home.objects().resolve("old")) && Files.exists(home.objects().resolve("new")));
    }
}
