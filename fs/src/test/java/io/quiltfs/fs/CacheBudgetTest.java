package io.quiltfs.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.HomeLock;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.workflow.Build;
import io.quiltfs.store.workflow.Commit;
import io.quiltfs.store.workflow.Install;
import io.quiltfs.store.workflow.InstalledPackage;
import io.quiltfs.store.workflow.Progress;
import io.quiltfs.store.workflow.Push;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
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
        b.settle();
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
        b.settle();
        assertTrue(Files.exists(a), "pinned");
        b.unpin("a", 80 * 1024);
        b.settle();
        assertTrue(Files.exists(a) != Files.exists(c) || !Files.exists(c), "the limit holds again once unpinned");
    }

    /**
     * Files opening and closing the same object at once: right after its own pin, each must see
     * the object pinned (a close that brought the count to zero must not drop a pin made
     * meanwhile), and once all closed, nothing is pinned.
     */
    @Test
    void pinsMadeWhileAnotherFileClosesAreNotLost() throws Exception {
        Home home = new Home(tmp).ensure();
        CacheBudget b = CacheBudget.open(home, 100 * 1024);
        int threads = 4;
        java.util.concurrent.atomic.AtomicInteger lost = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(threads);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        try {
            java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 200_000; i++) {
                        b.pin("x");
                        if (!b.pinned("x")) {
                            lost.incrementAndGet();
                        }
                        b.unpin("x", 1);
                    }
                    return null;
                }));
            }
            for (var f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(0, lost.get(), "pins lost to a concurrent close");
        assertFalse(b.pinned("x"), "pinned with every file closed");
    }

    /**
     * Names whose {@link String#hashCode} is the same: a {@link java.util.concurrent.ConcurrentHashMap}
     * puts them in one bin whatever its size, so an update of one locks the others.
     */
    static final String BIN_A = "AaAa";
    static final String BIN_B = "AaBB";
    static final String BIN_C = "BBAa";
    static final String BIN_D = "BBBB";

    /**
     * A file closes while the trimmer is deleting an object (held in the middle of it): the close
     * returns at once, without waiting for the deletion, and the object it released is trimmed
     * right after by the trimmer, with no further use of the cache. All names share one bin of
     * the pin map, so a deletion done within the map's update would hold the close.
     */
    @Test
    void aCloseDuringATrimReturnsAtOnceAndItsObjectIsTrimmedAfter() throws Exception {
        assertEquals(BIN_A.hashCode(), BIN_B.hashCode());
        assertEquals(BIN_A.hashCode(), BIN_C.hashCode());
        Home home = new Home(tmp).ensure();
        CacheBudget b = CacheBudget.open(home, 100 * 1024);
        String big = BIN_A;
        String a = BIN_B;
        String c = BIN_C;
        Path bigFile = object(home, big, 300);
        b.pin(big);
        b.touch(big, 300 * 1024); // beyond the limit, but open: only forgotten
        object(home, a, 80);
        b.touch(a, 80 * 1024);
        b.settle();
        assertTrue(Files.exists(bigFile), "open");
        java.util.concurrent.CountDownLatch deleting = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch resume = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.Set<String> deleters = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.List<String> deleted = new java.util.concurrent.CopyOnWriteArrayList<>();
        b.beforeDelete = name -> {
            deleters.add(Thread.currentThread().getName());
            deleted.add(name);
            if (first.getAndSet(false)) {
                deleting.countDown();
                try {
                    resume.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try {
            object(home, c, 80);
            // c goes: W-TinyLFU admits a newcomer only if it was used more often than the coldest
            // object (a, used as often). The trimmer is held in the middle of that deletion.
            b.touch(c, 80 * 1024);
            assertTrue(deleting.await(10, java.util.concurrent.TimeUnit.SECONDS), "the trimmer deletes");
            assertEquals(c, deleted.get(0));
            Thread closer = new Thread(() -> b.unpin(big, 300 * 1024));
            closer.start();
            closer.join(10_000);
            assertFalse(closer.isAlive(), "a close waited for a deletion under way on the trimmer");
        } finally {
            resume.countDown();
        }
        b.settle();
        assertFalse(Files.exists(bigFile), "released during a trim, and beyond the limit");
        assertTrue(b.usedBytes() <= 100 * 1024, "within the limit: " + b.usedBytes());
        assertEquals(java.util.Set.of("quiltfs-cache-trim"), deleters, "deleted only on the trimmer");
    }

    /**
     * Files of other objects open and close while the trimmer deletes one (held in the middle of
     * the unlink, as a large object or a network file system would): a name sharing the pin
     * map's bin with the deleted one is pinned and unpinned at once.
     */
    @Test
    void opensAndClosesOfOtherObjectsDoNotWaitForAnUnlink() throws Exception {
        Home home = new Home(tmp).ensure();
        CacheBudget b = CacheBudget.open(home, 100 * 1024);
        java.util.concurrent.CountDownLatch deleting = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch resume = new java.util.concurrent.CountDownLatch(1);
        b.beforeDelete = name -> {
            deleting.countDown();
            try {
                resume.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        Path gone = object(home, BIN_A, 300);
        try {
            b.touch(BIN_A, 300 * 1024); // beyond the limit on its own: deleted
            assertTrue(deleting.await(10, java.util.concurrent.TimeUnit.SECONDS), "the trimmer deletes");
            Thread other = new Thread(() -> {
                for (String n : new String[] {BIN_B, BIN_D}) {
                    b.pin(n);
                    b.unpin(n, 1024);
                }
                b.pin(BIN_C);
            });
            other.start();
            other.join(10_000);
            assertFalse(other.isAlive(), "an open or close of another object waited for an unlink");
            assertTrue(b.pinned(BIN_C));
            assertFalse(Files.exists(gone), "out of the cache before the unlink");
        } finally {
            resume.countDown();
        }
        b.settle();
        assertFalse(b.tracks(BIN_A));
        try (var s = Files.list(home.tmp())) {
            assertEquals(0, s.count(), "what was set aside is deleted");
        }
        b.close();
    }

    /** Uses never delete on the calling thread; the trimmer catches up on its own; close ends it. */
    @Test
    void usesOnlySignalTheTrimmerWhichStopsOnClose() throws Exception {
        Home home = new Home(tmp).ensure();
        CacheBudget b = CacheBudget.open(home, 100 * 1024);
        java.util.Set<String> deleters = java.util.concurrent.ConcurrentHashMap.newKeySet();
        b.beforeDelete = name -> deleters.add(Thread.currentThread().getName());
        for (int i = 0; i < 20; i++) {
            object(home, "o" + i, 30);
            b.touch("o" + i, 30 * 1024);
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (objectsOnDisk(home) > 3 && System.nanoTime() < deadline) {
            Thread.sleep(5); // no settle(): the trimmer brings the cache back within the limit by itself
        }
        assertEquals(3, objectsOnDisk(home), "trimmed to the limit without another use");
        assertEquals(java.util.Set.of("quiltfs-cache-trim"), deleters);
        b.close();
        assertTrue(b.closed(), "the trimmer stopped");
        object(home, "late", 30);
        b.touch("late", 30 * 1024); // after the unmount: ignored, no error
        b.settle(); // a trimmer still running would take the use and trim one object (120 KiB > 100)
        assertEquals(4, objectsOnDisk(home), "nothing trimmed after close");
    }

    /**
     * A file opens an object while a trim is deleting it: either the deletion comes first (the
     * open then finds it absent, and fetches it) or the object stays. Never an open file that
     * found its object in the cache and lost it right after.
     */
    @Test
    void aFileOpeningAnObjectBeingDeletedFindsItGoneOrKeepsIt() throws Exception {
        Home home = new Home(tmp).ensure();
        CacheBudget b = CacheBudget.open(home, 100 * 1024);
        Path big = object(home, "big", 300);
        java.util.concurrent.atomic.AtomicBoolean foundIt = new java.util.concurrent.atomic.AtomicBoolean();
        Thread opener = new Thread(() -> {
            b.pin("big");
            foundIt.set(Files.exists(big)); // what ObjectStore.open does next: look in the cache
        });
        b.beforeSetAside = name -> {
            opener.start();
            try {
                awaitStuckOrDone(opener);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        b.touch("big", 300 * 1024); // beyond the limit, and nobody has it open yet
        b.settle();
        opener.join();
        assertTrue(b.pinned("big"));
        assertTrue(!foundIt.get() || Files.exists(big), "deleted while open, after the open found it in the cache");
    }

    /** Returns once {@code t} ended or waits for something (a lock another thread holds). */
    static void awaitStuckOrDone(Thread t) throws InterruptedException {
        while (true) {
            Thread.State s = t.getState();
            if (s == Thread.State.TERMINATED || s == Thread.State.BLOCKED
                    || (s == Thread.State.WAITING && java.util.concurrent.locks.LockSupport.getBlocker(t) != null)) {
                return;
            }
            Thread.sleep(1);
        }
    }

    /** Makes cached objects older than a budget's adoption age, as after a restart long after. */
    static void age(Path... objects) throws Exception {
        long then = System.currentTimeMillis() - CacheBudget.ADOPT_AFTER_MILLIS - 60_000;
        for (Path p : objects) {
            Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.fromMillis(then));
        }
    }

    @Test
    void startsFromWhatIsAlreadyCached() throws Exception {
        Home home = new Home(tmp).ensure();
        age(object(home, "old", 200), object(home, "new", 200));
        CacheBudget b = CacheBudget.open(home, 250 * 1024);
        assertTrue(b.usedBytes() <= 250 * 1024);
        assertFalse(Files.exists(home.objects().resolve("old")) && Files.exists(home.objects().resolve("new")));
    }

    /**
     * A committed file edited again afterwards: until the push, the cache holds the only copy of
     * the committed content, so no budget may delete it; once pushed, it is an ordinary object.
     */
    @Test
    void neverDeletesWhatAnUnpushedCommitUses() throws Exception {
        Home home = new Home(tmp.resolve("home"));
        String committed = commitBigFile(home);

        CacheBudget b = CacheBudget.open(home, 100 * 1024);
        object(home, "other", 80);
        b.touch("other", 80 * 1024);
        b.settle();
        assertTrue(Files.exists(home.objects().resolve(committed)), "kept: the only copy of a committed version");
        assertFalse(b.tracks(committed), "no longer counted against the limit");

        PackageName pkg = PackageName.parse("team/data");
        Push.Result pushed = Push.push(InstalledPackage.require(home, pkg),
                new LocalRegistry(tmp.resolve("registry")), false, Clock.systemUTC(), Progress.NONE);
        assertTrue(pushed.pushed(), pushed.message());
        age(home.objects().resolve(committed));
        CacheBudget after = CacheBudget.open(home, 100 * 1024);
        after.touch("other", 80 * 1024);
        after.settle();
        assertFalse(Files.exists(home.objects().resolve(committed)), "pushed: evictable again");
    }

    /**
     * Two mounts of one home: the limit holds for the cache they share. A mount trims its own
     * objects to make room for what the other added, and never deletes the other's.
     */
    @Test
    void theLimitCountsWhatOtherProcessesAdded() throws Exception {
        Home home = new Home(tmp).ensure();
        CacheBudget first = CacheBudget.open(home, 300 * 1024);
        CacheBudget second = CacheBudget.open(home, 300 * 1024);
        for (String n : new String[] {"a", "b"}) {
            object(home, n, 100);
            first.touch(n, 100 * 1024);
        }
        for (String n : new String[] {"c", "d"}) {
            object(home, n, 100);
            second.touch(n, 100 * 1024);
        }
        first.settle();
        second.settle();
        assertEquals(4, objectsOnDisk(home), "each process alone is within its limit");
        first.rescan();
        assertEquals(200 * 1024, first.othersBytes());
        assertEquals(3, objectsOnDisk(home), "the shared cache is back within the limit");
        assertTrue(Files.exists(home.objects().resolve("c")) && Files.exists(home.objects().resolve("d")),
                "the other mount's objects are its own to trim");
        assertEquals(100 * 1024, first.usedBytes());
    }

    /**
     * A second mount of the home, with a smaller limit, starts while the first has a fresh
     * object open: it counts the object but never deletes it; once the object is ten minutes old
     * and nobody uses it, it is taken on like any other.
     */
    @Test
    void aSecondMountLeavesAnotherMountsFreshObjects() throws Exception {
        Home home = new Home(tmp).ensure();
        CacheBudget first = CacheBudget.open(home, 10 << 20);
        Path x = object(home, "x", 3 << 10);
        first.pin("x");
        first.touch("x", 3 << 20);
        CacheBudget second = CacheBudget.open(home, 2 << 20);
        object(home, "y", 100);
        second.touch("y", 100 * 1024);
        second.settle();
        assertTrue(Files.exists(x), "another mount's fresh object, open there, was deleted");
        assertFalse(second.tracks("x"));
        assertEquals(3 << 20, second.othersBytes());
        age(x);
        second.rescan();
        assertFalse(Files.exists(x), "an old object nobody here uses is trimmed to the limit");
    }

    /** An object another process deleted no longer counts, and its room is used again. */
    @Test
    void forgetsWhatAnotherProcessDeleted() throws Exception {
        Home home = new Home(tmp).ensure();
        CacheBudget b = CacheBudget.open(home, 300 * 1024);
        for (String n : new String[] {"a", "b", "c"}) {
            object(home, n, 100);
            b.touch(n, 100 * 1024);
        }
        Files.delete(home.objects().resolve("b")); // another mount trimmed it
        b.rescan();
        assertFalse(b.tracks("b"));
        assertEquals(200 * 1024, b.usedBytes());
        object(home, "d", 100);
        b.touch("d", 100 * 1024);
        b.settle();
        assertEquals(3, objectsOnDisk(home), "room for one more without evicting anything");
    }

    /**
     * A commit made through another spelling of the home's path (a symbolic link) is protected
     * all the same: objects are known by their names, not their paths.
     */
    @Test
    void protectsUnpushedObjectsWhateverTheHomesSpelling() throws Exception {
        Path real = Files.createDirectories(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        String committed = commitBigFile(new Home(link));
        CacheBudget b = CacheBudget.open(new Home(real), 100 * 1024);
        object(new Home(real), "other", 80);
        b.touch("other", 80 * 1024);
        assertTrue(Files.exists(new Home(real).objects().resolve(committed)), "kept: the only copy of a committed version");
    }

    /** Installs a one-file package into {@code home}, commits a 200 KiB version of the file; its object's name. */
    private String commitBigFile(Home home) throws Exception {
        PackageName pkg = PackageName.parse("team/data");
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "first");
        LocalRegistry registry = new LocalRegistry(Files.createDirectories(tmp.resolve("registry")));
        Build.build(registry, pkg, src, "first", null, HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE);
        home.ensure();
        Install.Result installed = Install.install(home, registry, PackageRef.latest(pkg), null, null,
                k -> {
                    try {
                        return Registries.sourceFor(k, registry, S3Settings.defaults());
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, Progress.NONE);
        Path a = installed.workDir().resolve("a.txt");
        Files.write(a, new byte[200 * 1024]);
        Commit.Result c = Commit.commit(InstalledPackage.require(home, pkg), "big a", null,
                HashType.SHA2_256_CHUNKED, Progress.NONE);
        Files.writeString(a, "edited after the commit");
        return Home.objectName(c.manifest().get("a.txt").hash());
    }

    private static long objectsOnDisk(Home home) throws Exception {
        try (var s = Files.list(home.objects())) {
            return s.count();
        }
    }

    /**
     * Objects that had to stay while a commit held the lineage lock are weighed again at the next
     * look at the cache: the limit holds once the lock is free.
     */
    @Test
    void objectsKeptWhileTheLineageWasBusyAreTrimmedLater() throws Exception {
        Home home = new Home(tmp).ensure();
        CacheBudget b = CacheBudget.open(home, 300 * 1024);
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Thread committer = new Thread(() -> {
            try (HomeLock lock = HomeLock.acquire(Lineage.lockFile(home))) {
                held.countDown();
                release.await();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        committer.start();
        held.await();
        for (int i = 0; i < 10; i++) {
            object(home, "o" + i, 100);
            b.touch("o" + i, 100 * 1024);
        }
        b.settle();
        assertEquals(10, objectsOnDisk(home), "nothing deleted while the lineage is being changed");
        release.countDown();
        committer.join();
        b.rescan();
        assertEquals(3, objectsOnDisk(home), "trimmed to the limit once the lock is free");
        assertTrue(b.usedBytes() <= 300 * 1024);
    }

    /** An object another process left in the cache for ten minutes is taken on, and can be trimmed. */
    @Test
    void takesOnObjectsNobodyManages() throws Exception {
        Home home = new Home(tmp).ensure();
        CacheBudget b = CacheBudget.open(home, 300 * 1024);
        for (String n : new String[] {"old", "fresh"}) {
            object(home, n, 100);
        }
        Files.setLastModifiedTime(home.objects().resolve("old"), java.nio.file.attribute.FileTime.fromMillis(
                System.currentTimeMillis() - CacheBudget.ADOPT_AFTER_MILLIS - 60_000));
        b.rescan();
        assertTrue(b.tracks("old"));
        assertFalse(b.tracks("fresh"), "another process's fresh object is only counted");
        assertEquals(100 * 1024, b.othersBytes());
    }
}
