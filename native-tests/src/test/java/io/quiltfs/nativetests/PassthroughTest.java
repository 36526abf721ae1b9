package io.quiltfs.nativetests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.testing.TestRegistries;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Kernel FUSE passthrough on a read-only mount: once an object is verified in the cache, the
 * kernel reads it from the cache file; files open through the daemon keep later opens of the same
 * file off passthrough (the kernel would refuse them); and the setting turns it off.
 */
class PassthroughTest {
    /** Passthrough needs CAP_SYS_ADMIN (root here) and a kernel built with it (Linux 6.9 or newer). */
    static boolean possibleHere() throws Exception {
        String caps = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("CapEff:")).findFirst().orElse("CapEff: 0").substring(7).trim();
        boolean sysAdmin = (Long.parseUnsignedLong(caps, 16) & (1L << 21)) != 0;
        return sysAdmin && Tool.sh("grep -q ' fuse_passthrough_open$' /proc/kallsyms").exit() == 0;
    }

    static String sha256sum(Path p) throws Exception {
        return Tool.run("sha256sum", p.toString()).ok().out().split(" ")[0];
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void cachedFilesAreReadByTheKernelFromTheCache() throws Exception {
        Assumptions.assumeTrue(possibleHere(), "passthrough needs root and Linux >= 6.9");
        try (Fixture f = new Fixture(TestRegistries.LOCAL).withStandardTree().mount()) {
            assertTrue(f.fuse().passthroughActive(), "the kernel agreed to passthrough");
            Path big = f.mnt.resolve("blobs/big.bin");
            String want = sha256sum(f.src.resolve("blobs/big.bin"));

            assertEquals(want, sha256sum(big), "first read, fetched by the daemon");
            assertEquals(0, f.fuse().passedThrough(), "an object not yet cached is served by the daemon");

            // The first reader's close reaches the daemon a moment later: until then the file
            // still counts as open through the daemon, and opens are served the same way.
            for (int i = 0; i < 100 && f.fuse().passedThrough() == 0; i++) {
                assertEquals(want, sha256sum(big));
                Thread.sleep(50);
            }
            assertTrue(f.fuse().passedThrough() > 0, "the cached object is passed through");
            long reads = f.fuse().daemonReads();
            assertEquals(want, sha256sum(big));

            String mapped = Tool.run("python3", "-c", "import hashlib, mmap, sys\n"
                    + "with open(sys.argv[1], 'rb') as f:\n"
                    + "    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)\n"
                    + "    print(hashlib.sha256(m).hexdigest())", big.toString()).ok().out().trim();
            assertEquals(want, mapped, "mmap of a passed-through file");
            Path out = f.scratch.resolve("copied.bin");
            Tool.run("cp", big.toString(), out.toString()).ok();
            Tool.run("cmp", out.toString(), f.src.resolve("blobs/big.bin").toString()).ok();
            assertEquals(reads, f.fuse().daemonReads(), "the kernel read the passed-through file itself");
            assertEquals(Files.readString(f.src.resolve("README.md")),
                    Tool.run("cat", f.mnt.resolve("README.md").toString()).ok().out());
        }
    }

    @Test
    void aFileOpenThroughTheDaemonKeepsLaterOpensOffPassthrough() throws Exception {
        Assumptions.assumeTrue(possibleHere(), "passthrough needs root and Linux >= 6.9");
        try (Fixture f = new Fixture(TestRegistries.LOCAL).withStandardTree().mount()) {
            Path mid = f.mnt.resolve("blobs/mid0.bin");
            String want = sha256sum(f.src.resolve("blobs/mid0.bin"));
            try (FileChannel held = FileChannel.open(mid, StandardOpenOption.READ)) {
                ByteBuffer all = ByteBuffer.allocate((int) held.size());
                while (all.hasRemaining() && held.read(all) > 0) {
                    // read to the end: the object is now verified in the cache
                }
                assertEquals(want, sha256(all.array()));
                // The object is cached, but this file is open through the daemon: another open
                // must not ask for passthrough (the kernel would fail it with EIO).
                assertEquals(want, sha256sum(mid));
                assertEquals(0, f.fuse().passedThrough());
            }
            // Closed (the kernel tells the daemon a moment later): the next opens pass through.
            for (int i = 0; i < 100 && f.fuse().passedThrough() == 0; i++) {
                assertEquals(want, sha256sum(mid));
                Thread.sleep(50);
            }
            assertTrue(f.fuse().passedThrough() > 0, "opens after the last daemon-served one pass through");
        }
    }

    @Test
    void manyReadersMixingBothKindsOfOpenAllReadTheRightBytes() throws Exception {
        try (Fixture f = new Fixture(TestRegistries.LOCAL).withStandardTree().mount()) {
            List<String> keys = new ArrayList<>();
            List<String> wants = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                keys.add("blobs/mid" + i + ".bin");
                wants.add(sha256(Files.readAllBytes(f.src.resolve(keys.get(i)))));
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<?>> jobs = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    int seed = t;
                    jobs.add(pool.submit(() -> {
                        for (int r = 0; r < 12; r++) {
                            int k = (seed + r) % keys.size();
                            assertEquals(wants.get(k), sha256(Files.readAllBytes(f.mnt.resolve(keys.get(k)))),
                                    keys.get(k));
                        }
                        return null;
                    }));
                }
                for (Future<?> j : jobs) {
                    j.get();
                }
            } finally {
                pool.shutdownNow();
            }
            if (possibleHere()) {
                assertTrue(f.fuse().passedThrough() > 0, "some of the later opens passed through");
            }
        }
    }

    @Test
    void theSettingTurnsItOff() throws Exception {
        System.setProperty("quiltfs.fuse.passthrough", "false");
        try (Fixture f = new Fixture(TestRegistries.LOCAL).withStandardTree().mount()) {
            assertFalse(f.fuse().passthroughActive());
            Path big = f.mnt.resolve("blobs/big.bin");
            String want = sha256sum(f.src.resolve("blobs/big.bin"));
            assertEquals(want, sha256sum(big));
            assertEquals(want, sha256sum(big));
            assertEquals(0, f.fuse().passedThrough());
        } finally {
            System.clearProperty("quiltfs.fuse.passthrough");
        }
    }
}
