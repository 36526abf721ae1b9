package io.quiltfs.store.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.hash.Hashers;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.RegistryException;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ObjectCacheTest {
    @TempDir
    Path tmp;

    private Path file(String name, byte[] data) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, data);
        return p;
    }

    @Test
    void putVerifiesBeforeTheObjectBecomesVisible() throws IOException {
        ObjectCache cache = new ObjectCache(new Home(tmp.resolve("home")));
        byte[] data = "hello".getBytes();
        Checksum sum = Hashers.of(HashType.SHA2_256_CHUNKED, data);
        Checksum wrong = Hashers.of(HashType.SHA2_256_CHUNKED, "other".getBytes());
        assertThrows(ChecksumMismatchException.class, () -> cache.putFile(wrong, file("a", data)));
        assertNull(cache.lookup(wrong));
        try (var s = Files.list(cache.home().tmp())) {
            assertEquals(0, s.count(), "no temporary file left behind");
        }
        Path p = cache.putFile(sum, file("a", data));
        assertArrayEquals(data, Files.readAllBytes(p));
        assertEquals(p, cache.lookup(sum));
        assertFalse(Files.isWritable(p) && !isRoot(), "objects are read-only");
    }

    @Test
    void temporaryFilesOfKilledProcessesAreSweptAndOthersKept() throws Exception {
        Home home = new Home(tmp.resolve("home"));
        ObjectCache cache = new ObjectCache(home);
        home.ensure();
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Process alive = new ProcessBuilder("sleep", "60").start();
        try {
            Path mine = cache.newTemp("SHA2_256_CHUNKED");
            Path dead = Files.createFile(home.tmp().resolve("p" + gone.pid() + "-SHA2_256_CHUNKED-1.part"));
            Path other = Files.createFile(home.tmp().resolve("p" + alive.pid() + "-fetch-2.part"));
            Path oldUnnamed = Files.createFile(home.tmp().resolve("fetch3.part"));
            Files.setLastModifiedTime(oldUnnamed, java.nio.file.attribute.FileTime.fromMillis(
                    System.currentTimeMillis() - java.util.concurrent.TimeUnit.DAYS.toMillis(2)));
            Path freshUnnamed = Files.createFile(home.tmp().resolve("fetch4.part"));
            assertEquals(2, cache.sweepAbandoned());
            assertFalse(Files.exists(dead));
            assertFalse(Files.exists(oldUnnamed));
            assertTrue(Files.exists(mine), "this process's own file");
            assertTrue(Files.exists(other), "a live process's file");
            assertTrue(Files.exists(freshUnnamed));
        } finally {
            alive.destroy();
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    @Test
    void corruptObjectIsDetectedAndTreatedAsAbsent() throws IOException {
        ObjectCache cache = new ObjectCache(new Home(tmp.resolve("home")));
        byte[] data = new byte[100_000];
        new java.util.Random(1).nextBytes(data);
        Checksum sum = Hashers.of(HashType.SHA2_256_CHUNKED, data);
        Path p = cache.putFile(sum, file("a", data));
        assertNotNull(cache.lookup(sum));
        // Flip one byte in place (as a disk fault or a stray write would).
        p.toFile().setWritable(true);
        try (var ch = java.nio.channels.FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) (data[500] ^ 1)}), 500);
        }
        assertNull(cache.lookup(sum), "a corrupt object is absent");
        assertFalse(Files.exists(p), "and removed");
    }

    @Test
    void stampsFromAnotherBootAreNotTrusted() throws IOException {
        ObjectCache cache = new ObjectCache(new Home(tmp.resolve("home")));
        byte[] data = new byte[(int) ObjectCache.STAMP_MIN_SIZE + 10];
        new java.util.Random(5).nextBytes(data);
        Checksum sum = Hashers.of(HashType.SHA2_256_CHUNKED, data);
        Path p = cache.putFile(sum, file("a", data));
        // Simulate what a power loss could leave: different bytes under the object's name, with a
        // stamp that matches the file's current stat.
        p.toFile().setWritable(true);
        byte[] garbage = data.clone();
        garbage[7] ^= 1;
        Files.write(p, garbage);
        ObjectCache.Stat now = ObjectCache.Stat.of(p);
        Path stamp = cache.home().stamps().resolve(Home.objectName(sum));
        Files.writeString(stamp, new ObjectCache.Stat(now.ino(), now.ctime(), now.mtime(), now.size(),
                "another-boot").format());
        assertNull(cache.lookup(sum), "a stamp of another boot is re-verified, and the bad object dropped");
        assertFalse(Files.exists(p));
        // The same stamp in this boot is trusted (that is what makes cached reads cheap).
        Path q = cache.putFile(sum, file("b", data));
        ObjectCache.Stat st = ObjectCache.Stat.of(q);
        assertEquals(ObjectCache.Stat.BOOT_ID, st.boot());
        assertEquals(q, cache.lookup(sum));
        // Small objects carry no stamp: every lookup hashes them, so a stale stamp cannot lie.
        byte[] small = "small".getBytes();
        Checksum smallSum = Hashers.of(HashType.SHA2_256_CHUNKED, small);
        cache.putFile(smallSum, file("s", small));
        assertFalse(Files.exists(cache.home().stamps().resolve(Home.objectName(smallSum))));
        assertNotNull(cache.lookup(smallSum));
    }

    @Test
    void everyHashTypeHasItsOwnName() throws IOException {
        ObjectCache cache = new ObjectCache(new Home(tmp.resolve("home")));
        byte[] data = "x".getBytes();
        for (HashType t : HashType.values()) {
            Checksum sum = Hashers.of(t, data);
            assertEquals(sum, cache.add(file("x" + t, data), t));
            assertNotNull(cache.lookup(sum));
        }
        try (var s = Files.list(cache.home().objects())) {
            assertEquals(3, s.count());
        }
    }

    @Test
    void concurrentPutsOfOneObjectFromManyThreads() throws Exception {
        ObjectCache cache = new ObjectCache(new Home(tmp.resolve("home")));
        byte[] data = new byte[3_000_000];
        new java.util.Random(2).nextBytes(data);
        Checksum sum = Hashers.of(HashType.SHA2_256_CHUNKED, data);
        Path src = file("src", data);
        ExecutorService ex = Executors.newFixedThreadPool(8);
        List<Future<Path>> fs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            fs.add(ex.submit(() -> cache.putFile(sum, src)));
        }
        for (var f : fs) {
            assertArrayEquals(data, Files.readAllBytes(f.get()));
        }
        ex.shutdown();
        assertNotNull(cache.lookup(sum));
    }

    /** A child process that puts one object into a home's cache many times. */
    public static void main(String[] args) throws Exception {
        ObjectCache cache = new ObjectCache(new Home(Paths.get(args[0])));
        Path src = Paths.get(args[1]);
        Checksum sum = Checksum.of(HashType.SHA2_256_CHUNKED, args[2]);
        for (int i = 0; i < 20; i++) {
            cache.putFile(sum, src);
            cache.remove(sum);
            cache.putFile(sum, src);
        }
    }

    @Test
    void concurrentPutsFromSeveralProcesses() throws Exception {
        Path home = tmp.resolve("home");
        byte[] data = new byte[1_000_000];
        new java.util.Random(3).nextBytes(data);
        Checksum sum = Hashers.of(HashType.SHA2_256_CHUNKED, data);
        Path src = file("src", data);
        List<Process> ps = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ps.add(ChildJvm.start(ObjectCacheTest.class, home.toString(), src.toString(), sum.value()));
        }
        for (Process p : ps) {
            assertEquals(0, p.waitFor());
        }
        ObjectCache cache = new ObjectCache(new Home(home));
        Path p = cache.lookup(sum);
        assertNotNull(p);
        assertArrayEquals(data, Files.readAllBytes(p));
    }

    @Test
    void fetcherFetchesOnceAndNamesTheKeyWhenTheObjectIsMissing() throws Exception {
        Path vectors = io.quiltfs.store.testing.Vectors.quilt().resolve("registry");
        LocalRegistry reg = new LocalRegistry(vectors);
        var m = reg.readManifest(reg.latest(io.quiltfs.store.registry.PackageName.parse("test/test")));
        ObjectCache cache = new ObjectCache(new Home(tmp.resolve("home")));
        Fetcher f = new Fetcher(cache, k -> reg);
        RegistryException.NotFound e = assertThrows(RegistryException.NotFound.class, () -> f.fetch(m.entry(0)));
        assertTrue(e.getMessage().contains("'foo'") && e.getMessage().contains("file:///foo"), e.getMessage());
        try (var s = Files.list(cache.home().tmp())) {
            assertEquals(0, s.count(), "nothing left behind");
        }

        byte[] data = new byte[2_000_000];
        new java.util.Random(4).nextBytes(data);
        Path src = file("obj", data);
        AtomicInteger opens = new AtomicInteger();
        Entry entry = new Entry("k", PhysicalKey.ofFile(src).toString(), data.length,
                Hashers.of(HashType.SHA2_256_CHUNKED, data));
        Fetcher counting = new Fetcher(cache, k -> new io.quiltfs.store.registry.ObjectSource() {
            @Override
            public boolean canRead(PhysicalKey key) {
                return true;
            }

            @Override
            public java.io.InputStream open(PhysicalKey key, long off, long len) throws IOException {
                opens.incrementAndGet();
                try {
                    Thread.sleep(200);
                } catch (InterruptedException ie) {
                    throw new IOException(ie);
                }
                return reg.open(key, off, len);
            }

            @Override
            public long size(PhysicalKey key) throws IOException {
                return reg.size(key);
            }
        });
        ExecutorService ex = Executors.newFixedThreadPool(8);
        List<Future<Path>> fs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            fs.add(ex.submit(() -> counting.fetch(entry)));
        }
        for (var fu : fs) {
            assertArrayEquals(data, Files.readAllBytes(fu.get()));
        }
        ex.shutdown();
        assertEquals(1, opens.get(), "single flight");

        // Content that does not match its row is refused and not kept.
        Entry lying = new Entry("bad", PhysicalKey.ofFile(src).toString(), data.length,
                Hashers.of(HashType.SHA2_256_CHUNKED, "nope".getBytes()));
        var mismatch = assertThrows(ChecksumMismatchException.class, () -> f.fetch(lying));
        assertTrue(mismatch.getMessage().contains("'bad'"), mismatch.getMessage());
        assertNull(cache.lookup(lying.hash()));
    }

    /**
     * The cache's folders deleted under a running process (rm -rf of the objects to make room,
     * while a mount runs): the next object stored recreates them instead of failing every fetch
     * until the process restarts.
     */
    @Test
    void theCacheFoldersDeletedMeanwhileAreMadeAgain() throws IOException {
        Home home = new Home(tmp.resolve("home"));
        ObjectCache cache = new ObjectCache(home);
        byte[] big = new byte[(int) ObjectCache.STAMP_MIN_SIZE + 10];
        new java.util.Random(5).nextBytes(big);
        Path src = tmp.resolve("src");
        Files.write(src, big);
        Checksum sum = cache.add(src, HashType.SHA2_256_CHUNKED);
        for (Path d : new Path[] {home.objects(), home.stamps(), home.tmp()}) {
            try (var files = Files.list(d)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.delete(f);
                }
            }
            Files.delete(d);
        }
        assertNull(cache.lookup(sum));
        assertEquals(sum, cache.add(src, HashType.SHA2_256_CHUNKED));
        Path p = cache.lookup(sum);
        assertNotNull(p);
        assertArrayEquals(big, Files.readAllBytes(p));
        assertTrue(Files.isRegularFile(home.stamps().resolve(Home.objectName(sum))), "stamped again");
        Files.delete(p);
        Files.delete(home.objects());
        assertEquals(p, cache.putFile(sum, src));
    }
}
