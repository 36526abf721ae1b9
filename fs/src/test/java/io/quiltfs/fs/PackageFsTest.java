package io.quiltfs.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.workflow.Build;
import io.quiltfs.store.workflow.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replays system-call sequences against the core, without FUSE. */
class PackageFsTest {
    @TempDir
    Path tmp;

    Path src;
    LocalRegistry registry;
    Manifest manifest;
    Home home;
    ObjectStore store;
    PackageFs fs;
    /** Counts opens of each physical key (single flight). */
    final AtomicInteger opens = new AtomicInteger();
    /** Set by a test to make the source misbehave. */
    volatile SourceHook hook;
    byte[] big;

    interface SourceHook {
        InputStream open(PhysicalKey key, long offset, long length, InputStream real) throws IOException;
    }

    @BeforeEach
    void setUp() throws IOException {
        src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("README.md"), "hello\n");
        Files.createDirectories(src.resolve("data/sub"));
        Files.writeString(src.resolve("data/a.csv"), "x,y\n1,2\n");
        Files.writeString(src.resolve("data/sub/b.txt"), "deep\n");
        Files.write(src.resolve("empty"), new byte[0]);
        big = new byte[20 << 20];
        new Random(5).nextBytes(big);
        Files.write(src.resolve("data/big.bin"), big);
        registry = new LocalRegistry(tmp.resolve("registry"));
        PackageName pkg = PackageName.parse("test/pkg");
        var res = Build.build(registry, pkg, src, "msg", Json.parse("{\"k\":1}"), HashType.SHA2_256_CHUNKED,
                Clock.systemUTC(), Progress.NONE);
        manifest = registry.readManifest(res.topHash());
        home = new Home(tmp.resolve("home"));
        mount(1L << 30, 5_000);
    }

    void mount(long cacheBytes, long stallMillis) throws IOException {
        mount(cacheBytes, stallMillis, 0);
    }

    void mount(long cacheBytes, long stallMillis, long retryPauseMillis) throws IOException {
        if (store != null) {
            store.close();
        }
        ObjectCache cache = new ObjectCache(home);
        ObjectSource counting = new ObjectSource() {
            @Override
            public boolean canRead(PhysicalKey key) {
                return true;
            }

            @Override
            public InputStream open(PhysicalKey key, long offset, long length) throws IOException {
                opens.incrementAndGet();
                InputStream real = registry.open(key, offset, length);
                SourceHook h = hook;
                return h == null ? real : h.open(key, offset, length, real);
            }

            @Override
            public long size(PhysicalKey key) throws IOException {
                return registry.size(key);
            }
        };
        store = new ObjectStore(cache, CacheBudget.open(home, cacheBytes), k -> counting, stallMillis, retryPauseMillis);
        fs = new PackageFs(manifest, PackageName.parse("test/pkg"), manifest.topHash(), 1_700_000_000L, store);
    }

    @AfterEach
    void tearDown() {
        store.close();
    }

    /**
     * The read that reaches EOF returns once verified; the move into the cache follows, on the
     * fetch's thread: waited for through the fetch in flight (none: it is over).
     */
    void awaitCached(String key) throws Exception {
        awaitFetched(store, manifest.get(key));
        assertTrue(store.cache().exists(manifest.get(key).hash()), key + " entered the cache");
    }

    /** Returns once no fetch of {@code e}'s object is in flight (a fetch leaves once its object is cached). */
    static void awaitFetched(ObjectStore store, Entry e) throws IOException {
        PhysicalKey key = PhysicalKey.parse(e.physicalKey());
        for (RangedFetch f : store.inFlight()) {
            if (f.key().equals(key)) {
                f.awaitDone();
            }
        }
    }

    List<String> ls(String path) throws IOException {
        List<String> out = new ArrayList<>();
        fs.readdir(path, (name, dir) -> out.add(name + (dir ? "/" : "")));
        return out;
    }

    byte[] readAll(String path) throws IOException {
        long h = fs.open(path, 0);
        try {
            var out = new java.io.ByteArrayOutputStream();
            long off = 0;
            ByteBuffer buf = ByteBuffer.allocate(128 * 1024);
            while (true) {
                buf.clear();
                int n = fs.read(h, off, buf);
                if (n == 0) {
                    return out.toByteArray();
                }
                out.write(buf.array(), 0, n);
                off += n;
            }
        } finally {
            fs.release(h);
        }
    }

    @Test
    void foldersComeFromKeys() throws IOException {
        assertEquals(List.of("./", "../", "README.md", "data/", "empty"), ls("/"));
        assertEquals(List.of("./", "../", "a.csv", "big.bin", "sub/"), ls("/data"));
        assertEquals(List.of("./", "../", "b.txt"), ls("/data/sub/"));
        assertTrue(fs.getattr("/data").directory());
        Attr a = fs.getattr("/data/a.csv");
        assertFalse(a.directory());
        assertEquals(8, a.size());
        assertEquals(0444, a.mode());
        assertEquals(1_700_000_000L, a.mtime());
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> fs.getattr("/nope")).errno());
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> fs.getattr("/dat")).errno());
        assertEquals(Errno.ENOTDIR, assertThrows(FsException.class, () -> ls("/README.md")).errno());
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> fs.getattr("/.quiltfs")).errno());
    }

    @Test
    void directoryRowsMakeEmptyFolders() throws IOException {
        Manifest m = manifest.toBuilder()
                .addDirectoryRow((com.fasterxml.jackson.databind.node.ObjectNode) Json.parse(
                        "{\"logical_key\":\"empty/dir/\",\"meta\":{}}"))
                .build();
        PackageFs f = new PackageFs(m, PackageName.parse("test/pkg"), m.topHash(), 0, store);
        assertTrue(f.getattr("/empty/dir").directory());
    }

    @Test
    void theReservedNameIsHidden() throws IOException {
        Entry readme = manifest.get("README.md");
        Manifest m = manifest.toBuilder().add(readme.withLogicalKey(".quiltfs/control")).build();
        PackageFs f = new PackageFs(m, PackageName.parse("test/pkg"), m.topHash(), 0, store);
        List<String> names = new ArrayList<>();
        f.readdir("/", (name, dir) -> names.add(name));
        assertFalse(names.contains(".quiltfs"), names.toString());
        assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> f.getattr("/.quiltfs/control")).errno());
        assertEquals(Errno.ENOTSUP, assertThrows(FsException.class,
                () -> f.getxattr("/README.md", "security.selinux")).errno());
    }

    @Test
    void readsAndAttributes() throws IOException {
        assertEquals("hello\n", new String(readAll("/README.md"), StandardCharsets.UTF_8));
        assertArrayEquals(new byte[0], readAll("/empty"));
        assertArrayEquals(big, readAll("/data/big.bin"));
        assertTrue(fs.listxattr("/data/a.csv").contains("user.quilt.hash"));
        assertEquals(manifest.get("data/a.csv").hash().toString(),
                new String(fs.getxattr("/data/a.csv", "user.quilt.hash"), StandardCharsets.UTF_8));
        assertTrue(new String(fs.getxattr("/data/a.csv", "user.quilt.physical_key"), StandardCharsets.UTF_8)
                .startsWith("file://"));
        assertEquals("{\"k\":1}", new String(fs.getxattr("/", "user.quilt.user_meta"), StandardCharsets.UTF_8));
        assertEquals(manifest.topHash(), new String(fs.getxattr("/", "user.quilt.top_hash"), StandardCharsets.UTF_8));
        assertEquals(Errno.ENODATA, assertThrows(FsException.class,
                () -> fs.getxattr("/README.md", "user.quilt.user_meta")).errno());
        assertEquals(0, fs.openFiles());
    }

    @Test
    void writesAreRefused() {
        assertEquals(Errno.EROFS, assertThrows(FsException.class, () -> fs.open("/README.md", 1)).errno());
        assertEquals(Errno.EROFS, assertThrows(FsException.class, () -> fs.open("/README.md", 2)).errno());
        assertEquals(Errno.EISDIR, assertThrows(FsException.class, () -> fs.open("/data", 0)).errno());
    }

    @Test
    void secondOpenIsServedFromTheCacheAndKeepsPages() throws Exception {
        long h = fs.open("/README.md", 0);
        assertFalse(fs.keepCache(h));
        assertEquals(6, fs.read(h, 0, ByteBuffer.allocate(100)));
        fs.release(h);
        awaitCached("README.md");
        int before = opens.get();
        long h2 = fs.open("/README.md", 0);
        assertTrue(fs.keepCache(h2));
        assertEquals(6, fs.read(h2, 0, ByteBuffer.allocate(100)));
        fs.release(h2);
        assertEquals(before, opens.get());
        assertNotNull(store.cache().lookup(manifest.get("README.md").hash()));
    }

    @Test
    void manyReadersFetchOnce() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        hook = (k, off, len, real) -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            return real;
        };
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<byte[]>> reads = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                reads.add(pool.submit(() -> readAll("/data/big.bin")));
            }
            Thread.sleep(200);
            gate.countDown();
            for (Future<byte[]> f : reads) {
                assertArrayEquals(big, f.get());
            }
        } finally {
            pool.shutdownNow();
        }
        // 20 MiB in ranges of 1, 2, 4, 8 and the 5 MiB rest: one fetch, five ranged reads.
        assertEquals(5, opens.get());
    }

    @Test
    void aReadNearTheStartDoesNotWaitForTheWholeObject() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        hook = (k, off, len, real) -> {
            if (off > 0) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            return real;
        };
        long h = fs.open("/data/big.bin", 0);
        ByteBuffer buf = ByteBuffer.allocate(128 * 1024);
        assertEquals(buf.capacity(), fs.read(h, 0, buf));
        assertArrayEquals(java.util.Arrays.copyOf(big, buf.capacity()), buf.array());
        // The read that reaches the end waits for the whole object (the hook lets it through).
        release.countDown();
        ByteBuffer tail = ByteBuffer.allocate(100);
        assertEquals(100, fs.read(h, big.length - 100, tail));
        assertArrayEquals(java.util.Arrays.copyOfRange(big, big.length - 100, big.length), tail.array());
        fs.release(h);
        awaitCached("data/big.bin");
        assertNotNull(store.cache().lookup(manifest.get("data/big.bin").hash()));
    }

    @Test
    void rangesInFlightAtOnceMayFinishInAnyOrder() throws Exception {
        // The second range (1-3 MiB) starts only once the third (3-7 MiB) has been read to its
        // end: that needs several ranges in flight, and the third finishes first. The object
        // must still read and verify byte for byte.
        CountDownLatch thirdDone = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean inOrder = new java.util.concurrent.atomic.AtomicBoolean(true);
        hook = (k, off, len, real) -> {
            if (off == 3 << 20) {
                return new java.io.FilterInputStream(real) {
                    @Override
                    public void close() throws IOException {
                        super.close();
                        thirdDone.countDown();
                    }
                };
            }
            if (off == 1 << 20) {
                try {
                    inOrder.set(!thirdDone.await(3, java.util.concurrent.TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            return real;
        };
        byte[] read = assertDoesNotThrow(() -> readAll("/data/big.bin"), "reading while ranges finish out of order");
        assertFalse(inOrder.get(), "the third range finished while the second had not started");
        assertArrayEquals(big, read);
        awaitCached("data/big.bin");
        assertEquals(5, opens.get());
    }

    /** A hook whose ranges after the first block until {@code healthy} opens (or 10 s pass). */
    SourceHook stallAfterTheFirstRange(CountDownLatch healthy) {
        return (k, off, len, real) -> {
            if (off > 0) {
                try {
                    healthy.await(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            return real;
        };
    }

    ByteBuffer readAt(long h, long offset, int len) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(len);
        assertEquals(len, fs.read(h, offset, buf));
        assertArrayEquals(java.util.Arrays.copyOfRange(big, (int) offset, (int) offset + len), buf.array());
        return buf;
    }

    @Test
    void aStalledFetchBecomesEioAndTheNextReadRetries() throws Exception {
        mount(1L << 30, 300);
        CountDownLatch healthy = new CountDownLatch(1);
        hook = stallAfterTheFirstRange(healthy);
        long h = fs.open("/data/big.bin", 0);
        try {
            readAt(h, 0, 128 << 10);
            IOException e = assertThrows(IOException.class, () -> fs.read(h, 4 << 20, ByteBuffer.allocate(10)));
            assertEquals(Errno.EIO, Errno.of(e));
            hook = null;
            // The same descriptor: the next reads start a new fetch, before and after the bytes it had.
            readAt(h, 4 << 20, 128 << 10);
            readAt(h, 0, 128 << 10);
            readAt(h, big.length - (64 << 10), 64 << 10);
        } finally {
            healthy.countDown();
            fs.release(h);
        }
        awaitCached("data/big.bin");
    }

    /**
     * The kernel sends the reads of a failed read-ahead again at once: they get the failure that
     * just happened, not a new fetch each (one fetch per read, each failing the same way, made a
     * program wait minutes for its EIO from a server that always dropped the connection).
     */
    @Test
    void readsRightAfterAFailedFetchGetItsEioWithoutFetchingAgain() throws Exception {
        mount(1L << 30, 5_000, 3_600_000);
        // The fetch fails once the open has its descriptor: a fetch failing before that fails the
        // open itself (its file is gone), which is another case.
        CountDownLatch opened = new CountDownLatch(1);
        hook = (k, off, len, real) -> {
            real.close();
            try {
                opened.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("connection reset (test)");
        };
        long h = fs.open("/data/big.bin", 0);
        opened.countDown();
        try {
            IOException e = assertThrows(IOException.class, () -> fs.read(h, 0, ByteBuffer.allocate(4096)));
            assertEquals(Errno.EIO, Errno.of(e));
            int tried = opens.get();
            for (int i = 0; i < 5; i++) {
                long at = (long) i * (128 << 10);
                e = assertThrows(IOException.class, () -> fs.read(h, at, ByteBuffer.allocate(4096)));
                assertEquals(Errno.EIO, Errno.of(e));
            }
            assertEquals(tried, opens.get(), "no new fetch for the reads that follow at once");
        } finally {
            fs.release(h);
        }
        hook = null;
        assertArrayEquals(big, readAll("/data/big.bin"), "a new open fetches again");
    }

    @Test
    void aStreamThatHangsBecomesEioAndTheSameDescriptorRetries() throws Exception {
        mount(1L << 30, 300);
        CountDownLatch stuck = new CountDownLatch(1);
        hook = (k, off, len, real) -> new InputStream() {
            @Override
            public int read() throws IOException {
                try {
                    stuck.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
                return -1;
            }

            @Override
            public void close() {
                stuck.countDown();
            }
        };
        long h = fs.open("/data/a.csv", 0);
        try {
            IOException e = assertThrows(IOException.class, () -> fs.read(h, 0, ByteBuffer.allocate(10)));
            assertEquals(Errno.EIO, Errno.of(e));
            hook = null;
            ByteBuffer buf = ByteBuffer.allocate(10);
            assertEquals(8, fs.read(h, 0, buf));
            assertEquals("x,y\n1,2\n", new String(buf.array(), 0, 8, StandardCharsets.UTF_8));
        } finally {
            fs.release(h);
        }
        assertEquals("x,y\n1,2\n", new String(readAll("/data/a.csv"), StandardCharsets.UTF_8));
    }

    /**
     * A fetch left running after its reader closed the file, which then stalls: nobody waits for
     * it, yet a later open must not join it (and fail at once) but fetch anew.
     */
    @Test
    void aFetchThatStalledWhileNobodyWaitedIsNotJoined() throws Exception {
        mount(1L << 30, 300);
        CountDownLatch healthy = new CountDownLatch(1);
        hook = stallAfterTheFirstRange(healthy);
        try {
            long h = fs.open("/data/big.bin", 0);
            readAt(h, 0, 128 << 10);
            fs.release(h); // as `head -c` does; the fetch goes on in the background, and stalls
            Thread.sleep(900); // three stall deadlines, with no reader waiting
            hook = null;
            long h2 = fs.open("/data/big.bin", 0);
            try {
                readAt(h2, 4 << 20, 128 << 10);
            } finally {
                fs.release(h2);
            }
            assertArrayEquals(big, readAll("/data/big.bin"));
        } finally {
            healthy.countDown();
        }
    }

    /**
     * Sequential reads far ahead of a fetch that makes no progress (seeking into the middle of a
     * cold file): each ranged read fetches more than the one before and the following reads are
     * served from it, so far fewer requests than reads, and no byte is requested twice.
     */
    @Test
    void sequentialReadsFarAheadOfTheFetchReadAheadMoreAndMore() throws Exception {
        long from = (17L << 20) + (512 << 10); // beyond the first range + FAR_AHEAD
        int reads = 15; // not to the end of the file: that read waits for the whole object
        int size = 128 << 10;
        List<long[]> far = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch healthy = new CountDownLatch(1);
        SourceHook stall = stallAfterTheFirstRange(healthy);
        hook = (k, off, len, real) -> {
            if (off >= from) {
                far.add(new long[] {off, len});
                return real;
            }
            return stall.open(k, off, len, real);
        };
        long h = fs.open("/data/big.bin", 0);
        try {
            for (int i = 0; i < reads; i++) {
                readAt(h, from + (long) i * size, size);
            }
        } finally {
            healthy.countDown();
            fs.release(h);
        }
        assertTrue(far.size() <= 5, "ranged reads for " + reads + " sequential reads: " + far.size());
        far.sort(java.util.Comparator.comparingLong(r -> r[0]));
        for (int i = 1; i < far.size(); i++) {
            assertTrue(far.get(i - 1)[0] + far.get(i - 1)[1] <= far.get(i)[0], "a byte was requested twice");
        }
        // A read elsewhere far ahead starts small again and is still right.
        assertArrayEquals(big, readAll("/data/big.bin"));
    }

    /**
     * Bytes fetched by reads far ahead of the fetch go into the fetch's file: the whole-object
     * fetch skips them, so the object's bytes come from the source once in all, and the object
     * still enters the cache only verified.
     */
    @Test
    void bytesReadFarAheadAreNotDownloadedAgainByTheFetch() throws Exception {
        long from = (17L << 20) + (512 << 10); // beyond the ranges the fetch hands out before it stalls
        int reads = 12;
        int size = 128 << 10;
        java.util.concurrent.atomic.AtomicLong served = new java.util.concurrent.atomic.AtomicLong();
        String bigKey = manifest.get("data/big.bin").physicalKey();
        CountDownLatch healthy = new CountDownLatch(1);
        SourceHook stall = stallAfterTheFirstRange(healthy);
        hook = counting(bigKey, served, (k, off, len, real) -> off >= from ? real : stall.open(k, off, len, real));
        long h = fs.open("/data/big.bin", 0);
        try {
            for (int i = 0; i < reads; i++) {
                readAt(h, from + (long) i * size, size);
            }
        } finally {
            healthy.countDown();
        }
        try {
            ByteBuffer tail = ByteBuffer.allocate(1 << 20);
            assertEquals(1 << 20, fs.read(h, big.length - (1 << 20), tail)); // reaches the end: verified
            assertArrayEquals(java.util.Arrays.copyOfRange(big, big.length - (1 << 20), big.length), tail.array());
        } finally {
            fs.release(h);
        }
        awaitCached("data/big.bin");
        assertEquals(big.length, served.get(), "bytes of the object served by the source");
        assertArrayEquals(big, Files.readAllBytes(store.cache().lookup(manifest.get("data/big.bin").hash())));
    }

    /**
     * A read far ahead during which the fetch fails verification (its first range brought wrong
     * bytes) answers EIO, as a read from the fetch's file does: the bytes it gathered are not
     * handed out, and neither are they afterwards from what it kept in memory.
     */
    @Test
    void aReadFarAheadDuringWhichTheFetchFailsVerificationGivesEio() throws Exception {
        long from = (17L << 20) + (512 << 10);
        CountDownLatch healthy = new CountDownLatch(1);
        SourceHook stall = stallAfterTheFirstRange(healthy);
        java.util.concurrent.atomic.AtomicReference<RangedFetch> fetch = new java.util.concurrent.atomic.AtomicReference<>();
        String bigKey = manifest.get("data/big.bin").physicalKey();
        hook = (k, off, len, real) -> {
            if (!k.equals(PhysicalKey.parse(bigKey))) {
                return real;
            }
            if (off == 0) {
                byte[] wrong = real.readAllBytes();
                wrong[0] ^= 1;
                return new java.io.ByteArrayInputStream(wrong);
            }
            if (off < from) {
                return stall.open(k, off, len, real);
            }
            // The far read's own ranged read: let the fetch run to its end (it fails) meanwhile.
            healthy.countDown();
            RangedFetch f = fetch.get();
            for (long end = System.nanoTime() + 30_000_000_000L; !f.failed() && System.nanoTime() < end; ) {
                java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
            }
            return real;
        };
        long h = fs.open("/data/big.bin", 0);
        try {
            fetch.set(store.inFlight().iterator().next());
            IOException e = assertThrows(IOException.class, () -> fs.read(h, from, ByteBuffer.allocate(128 << 10)));
            assertEquals(Errno.EIO, Errno.of(e));
            assertTrue(fetch.get().failed(), "the fetch failed verification");
            e = assertThrows(IOException.class, () -> fs.read(h, from, ByteBuffer.allocate(128 << 10)));
            assertEquals(Errno.EIO, Errno.of(e));
        } finally {
            healthy.countDown();
            fs.release(h);
        }
        assertFalse(store.cache().exists(manifest.get("data/big.bin").hash()));
    }

    /** Wraps {@code inner}: the bytes read from streams of {@code physicalKey} are added to {@code served}. */
    static SourceHook counting(String physicalKey, java.util.concurrent.atomic.AtomicLong served, SourceHook inner) {
        PhysicalKey counted = PhysicalKey.parse(physicalKey);
        return (k, off, len, real) -> {
            InputStream in = inner.open(k, off, len, real);
            if (!k.equals(counted)) {
                return in;
            }
            return new java.io.FilterInputStream(in) {
                @Override
                public int read(byte[] b, int o, int n) throws IOException {
                    int r = super.read(b, o, n);
                    if (r > 0) {
                        served.addAndGet(r);
                    }
                    return r;
                }

                @Override
                public int read() throws IOException {
                    int r = super.read();
                    if (r >= 0) {
                        served.incrementAndGet();
                    }
                    return r;
                }
            };
        };
    }

    /**
     * Reads far ahead on two descriptors, in an order that makes their ranged reads meet (as the
     * kernel's parallel read-ahead does): every byte is right, bytes already fetched are served
     * from the fetch's file, and the object still comes from the source once in all.
     */
    @Test
    void readsFarAheadThatMeetFetchEachByteOnce() throws Exception {
        java.util.concurrent.atomic.AtomicLong served = new java.util.concurrent.atomic.AtomicLong();
        CountDownLatch healthy = new CountDownLatch(1);
        SourceHook stall = stallAfterTheFirstRange(healthy);
        long far = 17L << 20;
        hook = counting(manifest.get("data/big.bin").physicalKey(), served,
                (k, off, len, real) -> off >= far ? real : stall.open(k, off, len, real));
        long h1 = fs.open("/data/big.bin", 0);
        long h2 = fs.open("/data/big.bin", 0);
        try {
            long m = 1L << 20;
            long k = 1L << 10;
            readAt(h1, 18 * m, (int) (128 * k));             // fetched and donated
            readAt(h2, 17 * m + 512 * k, (int) (512 * k));   // up to it: donated beside it
            readAt(h1, 18 * m + 128 * k, (int) (128 * k));   // follows on: fetches twice as much
            readAt(h2, 17 * m + 256 * k, (int) m);           // a gap, then held bytes: only the gap is fetched
            readAt(h1, 17 * m + 768 * k, (int) (512 * k));   // all held: from the fetch's file
            readAt(h2, 18 * m + 512 * k, (int) m);           // on past a hole the fetch will fill
        } finally {
            healthy.countDown();
        }
        try {
            ByteBuffer tail = ByteBuffer.allocate(1 << 20);
            assertEquals(1 << 20, fs.read(h1, big.length - (1 << 20), tail));
        } finally {
            fs.release(h1);
            fs.release(h2);
        }
        awaitCached("data/big.bin");
        assertEquals(big.length, served.get(), "bytes of the object served by the source");
        assertArrayEquals(big, Files.readAllBytes(store.cache().lookup(manifest.get("data/big.bin").hash())));
    }

    @Test
    void corruptObjectGivesEioAndNothingIsKept() throws Exception {
        Path obj = PhysicalKey.parse(manifest.get("data/sub/b.txt").physicalKey()).filePath();
        Files.writeString(obj, "DEEP\n");
        long h = fs.open("/data/sub/b.txt", 0);
        IOException e = assertThrows(IOException.class, () -> fs.read(h, 0, ByteBuffer.allocate(100)));
        assertEquals(Errno.EIO, Errno.of(e));
        fs.release(h);
        assertFalse(store.cache().exists(manifest.get("data/sub/b.txt").hash()));
        try (var s = Files.list(home.tmp())) {
            assertEquals(0, s.count());
        }
        // The rest still reads.
        assertEquals("hello\n", new String(readAll("/README.md"), StandardCharsets.UTF_8));
    }

    @Test
    void missingObjectGivesEio() throws Exception {
        Files.delete(PhysicalKey.parse(manifest.get("data/a.csv").physicalKey()).filePath());
        long h = fs.open("/data/a.csv", 0);
        assertEquals(Errno.EIO, Errno.of(assertThrows(IOException.class, () -> fs.read(h, 0, ByteBuffer.allocate(10)))));
        fs.release(h);
    }

    @Test
    void aCorruptCacheFileIsFetchedAgain() throws Exception {
        readAll("/README.md");
        awaitCached("README.md");
        Path cached = store.cache().path(manifest.get("README.md").hash());
        cached.toFile().setWritable(true);
        Files.writeString(cached, "HELLO\n");
        assertEquals("hello\n", new String(readAll("/README.md"), StandardCharsets.UTF_8));
    }

    /**
     * The object cache's folders deleted while mounted (rm -rf to make room): files read before
     * and after are fetched again and read right, not EIO until the mount restarts.
     */
    @Test
    void theCacheFolderDeletedWhileMountedIsMadeAgain() throws Exception {
        readAll("/README.md");
        awaitCached("README.md");
        for (Path d : new Path[] {home.objects(), home.stamps()}) {
            try (var files = Files.walk(d)) {
                for (Path f : (Iterable<Path>) files.sorted(java.util.Comparator.reverseOrder())::iterator) {
                    Files.delete(f);
                }
            }
        }
        assertEquals("hello\n", new String(readAll("/README.md"), StandardCharsets.UTF_8));
        awaitCached("README.md");
        readAll("/data/a.csv");
        awaitCached("data/a.csv");
    }

    @Test
    void theCacheLimitEvictsColdObjectsButNotOpenOnes() throws Exception {
        mount(21L << 20, 5_000);
        long h = fs.open("/data/big.bin", 0);
        assertEquals(100, fs.read(h, big.length - 100, ByteBuffer.allocate(100)));
        readAll("/README.md");
        readAll("/data/a.csv");
        awaitCached("data/big.bin");
        awaitCached("README.md");
        awaitCached("data/a.csv");
        Entry bigRow = manifest.get("data/big.bin");
        assertTrue(store.cache().exists(bigRow.hash()), "pinned by an open file");
        fs.release(h);
        try (var objects = Files.list(home.objects())) {
            CacheBudgetTest.age(objects.toArray(Path[]::new)); // else a new mount leaves them to their fetcher
        }
        mount(1L << 20, 5_000); // a smaller budget: the 20 MiB object must go, the small ones stay
        assertFalse(store.cache().exists(bigRow.hash()));
        assertTrue(store.cache().exists(manifest.get("README.md").hash()));
    }

    /**
     * Under real pressure (a limit far below the object), the object of an open file stays in the
     * cache however often the cache is trimmed, and goes once the last file using it closes.
     */
    @Test
    void anOpenFileKeepsItsObjectUnderPressure() throws Exception {
        mount(2L << 20, 5_000);
        Entry bigRow = manifest.get("data/big.bin");
        long h = fs.open("/data/big.bin", 0);
        try {
            readAt(h, 0, 128 << 10);
            readAt(h, big.length - 100, 100); // to the end: fetched and verified whole
            awaitCached("data/big.bin");
            long h2 = fs.open("/data/big.bin", 0); // served from the cache: counts as a use, trims the cache
            readAt(h2, 1 << 20, 100);
            fs.release(h2);
            readAll("/README.md");
            readAll("/data/a.csv");
            assertTrue(store.cache().exists(bigRow.hash()), "evicted while a file using it is open");
            readAt(h, 5 << 20, 128 << 10);
        } finally {
            fs.release(h);
        }
        store.budget().settle(); // the trimmer's run after the close
        assertFalse(store.cache().exists(bigRow.hash()), "the limit holds again once closed");
    }

    @Test
    void errnoMapping() {
        assertEquals(Errno.EIO, Errno.of(new IOException("x")));
        assertEquals(Errno.EIO, Errno.of(new RuntimeException("bug")));
        assertEquals(Errno.ENOENT, Errno.of(new java.nio.file.NoSuchFileException("x")));
        assertEquals(Errno.EROFS, Errno.of(new FsException(Errno.EROFS, "ro")));
    }
}
