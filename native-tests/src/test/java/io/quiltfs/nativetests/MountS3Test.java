package io.quiltfs.nativetests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.FaultProxy;
import io.quiltfs.store.testing.S3ProxyServer;
import io.quiltfs.store.testing.TestRegistries;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A mount of a package on S3 whose requests go through a {@link FaultProxy} in front of the real
 * S3Proxy: what the server sends is counted and can be made to fail, from outside the mount.
 */
class MountS3Test {
    static final int BLOB = 8 << 20;
    static final int LARGE = 24 << 20;

    FaultProxy proxy;
    Fixture f;

    /** Fresh buckets on the shared S3Proxy, reached through the proxy. */
    TestRegistries.Kind proxied() {
        return new TestRegistries.Kind() {
            @Override
            public String newRegistry(Path scratch) throws java.io.IOException {
                return TestRegistries.S3.newRegistry(scratch);
            }

            @Override
            public Registry open(String uri) throws java.io.IOException {
                return Registries.open(uri, new S3Settings(proxy.endpoint(), "us-east-1"));
            }

            @Override
            public String name() {
                return "s3-proxied";
            }
        };
    }

    @BeforeEach
    void setUp() throws Exception {
        Fixture.assumeFuse();
        proxy = new FaultProxy(S3ProxyServer.shared().port());
        f = new Fixture(proxied());
        for (String name : new String[] {"blob.bin", "shared.bin", "large.bin"}) {
            byte[] b = new byte[name.equals("large.bin") ? LARGE : BLOB];
            new Random(name.hashCode()).nextBytes(b);
            Files.write(f.src.resolve(name), b);
        }
        f.write("small.txt", "small\n");
        f.write("gone.txt", "deleted behind the mount's back\n");
        for (int i = 0; i < 200; i++) {
            f.write(String.format("many/f%03d.txt", i), "file " + i + "\n".repeat(i % 7 + 1));
        }
        f.build();
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (f != null) {
                f.close();
            }
        } finally {
            if (proxy != null) {
                proxy.close();
            }
        }
    }

    String s3Key(String logicalKey) {
        return PhysicalKey.parse(f.manifest.get(logicalKey).physicalKey()).path();
    }

    /** Files left in the home's temporary folder (partial fetches). */
    long temporaries() throws Exception {
        Path tmp = new Home(f.home).tmp();
        if (!Files.isDirectory(tmp)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(tmp)) {
            return s.count();
        }
    }

    /**
     * A server that cuts every response short gives the reader EIO once the resumes are spent;
     * nothing partial is kept, and once the server is healthy a new read gets the right bytes.
     */
    @Test
    void aServerThatFailsMidTransferGivesEioAndKeepsNothing() throws Exception {
        f.mount();
        String blob = f.mnt.resolve("blob.bin").toString();
        FaultProxy.Rule cut = proxy.dropBody("GET", s3Key("blob.bin"), 100_000, -1);
        Tool.Result r = Tool.run("cmp", f.src.resolve("blob.bin").toString(), blob);
        assertNotEquals(0, r.exit(), r.out());
        assertTrue(r.err().contains("Input/output error"), r.err());
        assertTrue(cut.fired() > 1, "resumed before giving up: " + cut.fired());
        assertFalse(Files.exists(new Home(f.home).object(f.manifest.get("blob.bin").hash())));
        assertEquals(0, temporaries(), "partial fetches left in the home");

        proxy.clear();
        Tool.run("cmp", f.src.resolve("blob.bin").toString(), blob).ok();
        Path cached = new Home(f.home).object(f.manifest.get("blob.bin").hash());
        for (int i = 0; i < 500 && !Files.exists(cached); i++) {
            Thread.sleep(10); // the move into the cache follows the read that reached the end
        }
        assertTrue(Files.exists(cached));
        Tool.run("cmp", f.src.resolve("blob.bin").toString(), cached.toString()).ok();
    }

    /**
     * A server that stops sending in the middle of a body (the connection stays open): the
     * reader gets EIO once the mount's stall deadline passed (the fixture's is 10 s), not at the
     * socket timeout nor never, nothing is kept, and the next read fetches again.
     */
    @Test
    void aServerThatStopsSendingGivesEioAfterTheStallDeadline() throws Exception {
        f.mount();
        String blob = f.mnt.resolve("blob.bin").toString();
        FaultProxy.Rule stall = proxy.stallBody("GET", s3Key("blob.bin"), 300_000, java.time.Duration.ofMinutes(2), -1);
        Tool.Result r = Tool.run("cmp", f.src.resolve("blob.bin").toString(), blob);
        assertNotEquals(0, r.exit(), r.out());
        assertTrue(r.err().contains("Input/output error"), r.err());
        assertTrue(stall.fired() >= 1);
        assertFalse(Files.exists(new Home(f.home).object(f.manifest.get("blob.bin").hash())));
        assertEquals(0, temporaries(), "partial fetches left in the home");
        proxy.clear();
        Thread.sleep(1_100); // past the pause in which a failed descriptor's reads get the same EIO
        Tool.run("cmp", f.src.resolve("blob.bin").toString(), blob).ok();
    }

    /** Concurrent cold readers of one file share one fetch: its bytes come over the wire once. */
    @Test
    void concurrentColdReadersShareOneFetch() throws Exception {
        f.mount();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Tool.Result>> all = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                all.add(pool.submit(() -> Tool.run("cmp", f.src.resolve("shared.bin").toString(),
                        f.mnt.resolve("shared.bin").toString())));
            }
            for (Future<Tool.Result> r : all) {
                r.get().ok();
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(BLOB, proxy.bodyBytes("GET", s3Key("shared.bin")), "bytes of shared.bin from the server");
    }

    /**
     * Reads far ahead of a fetch held back by the server get ranged reads of their own, and the
     * whole-object fetch then skips their bytes: the object comes over the wire once in all.
     */
    @Test
    void bytesReadFarAheadOfAStalledFetchComeOverTheWireOnce() throws Exception {
        f.mount();
        String large = f.mnt.resolve("large.bin").toString();
        // The fetch's first response stalls after 200 KB for a while (under the mount's stall
        // deadline), then is cut: the fetch resumes from there.
        FaultProxy.Rule held = proxy.stallBody("GET", s3Key("large.bin"), 200_000, java.time.Duration.ofSeconds(4), 1);
        // One descriptor (a new open would wait for the kernel's read-ahead of the first pages,
        // which waits for the held fetch): the start, then 2 MiB from 18 MiB in, more than 16 MiB
        // ahead of the fetched bytes.
        Tool.run("python3", "-c", "import sys\n"
                + "f = open(sys.argv[1], 'rb', buffering=0)\n"
                + "assert len(f.read(131072)) == 131072\n"
                + "f.seek(18 << 20)\n"
                + "for _ in range(16):\n"
                + "    assert len(f.read(131072)) == 131072\n", large).ok();
        assertEquals(1, held.fired());
        Tool.run("cmp", f.src.resolve("large.bin").toString(), large).ok();
        Path cached = new Home(f.home).object(f.manifest.get("large.bin").hash());
        for (int i = 0; i < 500 && !Files.exists(cached); i++) {
            Thread.sleep(10); // the move into the cache follows the read that reached the end
        }
        assertTrue(Files.exists(cached));
        assertEquals(LARGE, proxy.bodyBytes("GET", s3Key("large.bin")), "bytes of large.bin from the server: "
                + proxy.exchanges().stream().filter(e -> e.target().contains("large.bin")).toList());
    }

    /** A cold read of many small files: one GET each, no listing, the right bytes. */
    @Test
    void aColdCatOfManySmallFilesGetsEachOnceWithoutListing() throws Exception {
        f.mount();
        int before = proxy.exchanges().size();
        String script = "cd %s && find many -type f | sort | xargs cat";
        String want = Tool.sh(String.format(script, MountToolsTest.q(f.src))).ok().out();
        String got = Tool.sh(String.format(script, MountToolsTest.q(f.mnt))).ok().out();
        assertEquals(want, got);
        List<FaultProxy.Exchange> during = proxy.exchanges().subList(before, proxy.exchanges().size());
        assertEquals(200, during.stream().filter(e -> e.method().equals("GET") && e.target().contains("/many/")).count(),
                during.toString());
        assertTrue(during.stream().noneMatch(e -> e.target().contains("list-type")), "listed: " + during);
        Tool.run("cp", "-r", f.mnt.toString(), f.scratch.resolve("copy").toString()).ok();
        Tool.run("diff", "-r", f.src.toString(), f.scratch.resolve("copy").toString()).ok();
    }

    /**
     * An object deleted from the bucket behind the mount's back: EIO, one log line naming the
     * logical key and the S3 key; the rest of the mount still reads.
     */
    @Test
    void anObjectDeletedBehindOurBackGivesEioAndALogLineNamingTheKey() throws Exception {
        f.mount();
        Files.delete(S3ProxyServer.shared().objectFile(PhysicalKey.parse(f.manifest.get("gone.txt").physicalKey()).bucket(),
                s3Key("gone.txt")));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream err = System.err;
        Tool.Result r;
        System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8)); // slf4j-simple writes to System.err
        try {
            r = Tool.run("cat", f.mnt.resolve("gone.txt").toString());
            // The line is written by the fetch's completion, just after the reader's EIO: wait for it.
            for (long end = System.nanoTime() + 30_000_000_000L; !namesTheKey(log) && System.nanoTime() < end; ) {
                Thread.sleep(10);
            }
        } finally {
            System.setErr(err);
        }
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains("Input/output error"), r.err());
        assertTrue(namesTheKey(log), log.toString(StandardCharsets.UTF_8));
        assertEquals("small\n", Tool.run("cat", f.mnt.resolve("small.txt").toString()).ok().out());
    }

    private boolean namesTheKey(ByteArrayOutputStream log) {
        return log.toString(StandardCharsets.UTF_8).lines()
                .anyMatch(l -> l.contains("'gone.txt'") && l.contains(s3Key("gone.txt")));
    }

    /**
     * A physical key with a version id is read with it. S3Proxy's filesystem backend keeps no
     * versions: it ignores the version id (or refuses it), so the read gets the bytes of the
     * row, checked against its hash, or EIO; never other bytes.
     */
    @Test
    void aVersionedPhysicalKeyIsReadWithItsVersion() throws Exception {
        Entry small = f.manifest.get("small.txt");
        PhysicalKey pk = PhysicalKey.parse(small.physicalKey());
        String versioned = new PhysicalKey(pk.scheme(), pk.bucket(), pk.path(), "v1/abc").toString();
        f.publish(f.manifest.toBuilder().add(new Entry("versioned.txt", versioned, small.size(), small.hash())).build());
        f.mount();
        int before = proxy.exchanges().size();
        Tool.Result r = Tool.run("cat", f.mnt.resolve("versioned.txt").toString());
        List<FaultProxy.Exchange> gets = proxy.exchanges().subList(before, proxy.exchanges().size());
        assertTrue(gets.stream().anyMatch(e -> e.target().contains("versionId=v1%2Fabc")), gets.toString());
        if (r.exit() == 0) {
            assertEquals("small\n", r.out());
        } else {
            assertTrue(r.err().contains("Input/output error"), r.err());
        }
        System.out.println("versioned read through S3Proxy: exit " + r.exit() + " " + r.err().strip());
    }
}
