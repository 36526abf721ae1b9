package io.quiltfs.nativetests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.TestRegistries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Ordinary tools against a real mount of a package, for every registry kind. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MountToolsTest {
    private final Map<String, Fixture> mounted = new HashMap<>();

    /** One mount per registry kind, shared by this class's tests (they only read). */
    private Fixture fixture(TestRegistries.Kind kind) throws Exception {
        Fixture f = mounted.get(kind.name());
        if (f == null) {
            f = new Fixture(kind);
            mounted.put(kind.name(), f);
            f.withStandardTree().mount();
        }
        return f;
    }

    @AfterAll
    void unmountAll() throws Exception {
        for (Fixture f : mounted.values()) {
            f.close();
        }
    }

    /**
     * Deletes the cached objects of these keys (earlier tests of the shared mount read them), so
     * that the next reads go through a fetch, single flight included; a file opened without its
     * object cached does not let the kernel keep old pages nor pass through to the cache file.
     */
    private static void uncache(Fixture f, String... keys) throws Exception {
        Home home = new Home(f.home);
        for (String k : keys) {
            Checksum sum = f.manifest.get(k).hash();
            Files.deleteIfExists(home.object(sum));
            Files.deleteIfExists(home.stamps().resolve(Home.objectName(sum)));
        }
    }

    /** Each key's object was fetched into the cache (by the reads through the mount). */
    private static void assertFetched(Fixture f, String... keys) throws Exception {
        Home home = new Home(f.home);
        for (String k : keys) {
            Path p = home.object(f.manifest.get(k).hash());
            for (int i = 0; i < 500 && !Files.exists(p); i++) {
                Thread.sleep(10); // the move into the cache follows the read that reached the end
            }
            assertTrue(Files.exists(p), k + " was fetched into the cache");
        }
    }

    static String q(Path p) {
        return "'" + p.toString().replace("'", "'\\''") + "'";
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void listsAndStats(TestRegistries.Kind kind) throws Exception {
        Fixture f = fixture(kind);
        String ls = Tool.run("ls", "-la", f.mnt.toString()).ok().out();
        assertTrue(ls.contains("README.md") && ls.contains("data") && ls.contains("name with spaces.txt"), ls);
        assertTrue(ls.lines().anyMatch(l -> l.startsWith("dr-xr-xr-x") && l.endsWith(" data")), ls);
        assertTrue(ls.lines().anyMatch(l -> l.startsWith("-r--r--r--") && l.endsWith(" README.md")), ls);
        String mine = Tool.sh("cd " + q(f.src) + " && find . | sort").ok().out();
        String theirs = Tool.sh("cd " + q(f.mnt) + " && find . | sort").ok().out();
        assertEquals(mine, theirs);
        assertEquals(Files.size(f.src.resolve("blobs/big.bin")) + "",
                Tool.run("stat", "-c", "%s", f.mnt.resolve("blobs/big.bin").toString()).ok().out().trim());
        assertEquals("directory", Tool.run("stat", "-c", "%F", f.mnt.resolve("data").toString()).ok().out().trim());
        assertTrue(Tool.run("stat", f.mnt.resolve("nope").toString()).exit() != 0);
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void readsWithCatHeadTailAndSha256sum(TestRegistries.Kind kind) throws Exception {
        Fixture f = fixture(kind);
        assertEquals(Files.readString(f.src.resolve("README.md")),
                Tool.run("cat", f.mnt.resolve("README.md").toString()).ok().out());
        assertEquals("", Tool.run("cat", f.mnt.resolve("empty.txt").toString()).ok().out());
        assertEquals(Tool.sh("head -c 1000 " + q(f.src.resolve("blobs/big.bin")) + " | sha256sum").ok().out(),
                Tool.sh("head -c 1000 " + q(f.mnt.resolve("blobs/big.bin")) + " | sha256sum").ok().out());
        assertEquals(Tool.sh("tail -c 5000 " + q(f.src.resolve("blobs/big.bin")) + " | sha256sum").ok().out(),
                Tool.sh("tail -c 5000 " + q(f.mnt.resolve("blobs/big.bin")) + " | sha256sum").ok().out());
        String mine = Tool.sh("cd " + q(f.src) + " && find . -type f -print0 | sort -z | xargs -0 sha256sum").ok().out();
        String theirs = Tool.sh("cd " + q(f.mnt) + " && find . -type f -print0 | sort -z | xargs -0 sha256sum").ok().out();
        assertEquals(mine, theirs);
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void copiesOutAndGreps(TestRegistries.Kind kind) throws Exception {
        Fixture f = fixture(kind);
        Path out = f.scratch.resolve("copy");
        Tool.run("cp", "-r", f.mnt.toString(), out.toString()).ok();
        Tool.run("diff", "-r", f.src.toString(), out.toString()).ok();
        String grep = Tool.run("grep", "-rl", "needle", f.mnt.toString()).ok().out();
        assertEquals(2, grep.lines().count(), grep);
        assertTrue(grep.contains("data/deep/a/b/c/needle.txt"), grep);
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void xattrsNameTheRow(TestRegistries.Kind kind) throws Exception {
        Fixture f = fixture(kind);
        String attrs = Tool.run("getfattr", "-d", f.mnt.resolve("README.md").toString()).ok().out();
        assertTrue(attrs.contains("user.quilt.hash=\"" + f.manifest.get("README.md").hash() + "\""), attrs);
        assertTrue(attrs.contains("user.quilt.physical_key="), attrs);
        String root = Tool.run("getfattr", "--only-values", "-n", "user.quilt.top_hash", f.mnt.toString()).ok().out();
        assertEquals(f.topHash, root);
        assertTrue(Tool.run("getfattr", "-n", "user.quilt.nope", f.mnt.resolve("README.md").toString()).err()
                .contains("No such attribute"));
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void writesFailWithEROFS(TestRegistries.Kind kind) throws Exception {
        Fixture f = fixture(kind);
        for (String script : List.of("touch " + q(f.mnt.resolve("new")), "echo x >> " + q(f.mnt.resolve("README.md")),
                "mkdir " + q(f.mnt.resolve("d")), "rm " + q(f.mnt.resolve("README.md")),
                "mv " + q(f.mnt.resolve("README.md")) + " " + q(f.mnt.resolve("R")))) {
            Tool.Result r = Tool.sh(script);
            assertNotEquals(0, r.exit(), script);
            assertTrue(r.err().contains("Read-only file system"), script + ": " + r.err());
        }
        assertTrue(Tool.run("ls", "-a", f.mnt.toString()).ok().out().lines().noneMatch(".quiltfs"::equals));
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void sixteenConcurrentReaders(TestRegistries.Kind kind) throws Exception {
        Fixture f = fixture(kind);
        String[] keys = new String[17];
        keys[16] = "blobs/big.bin";
        for (int i = 0; i < 16; i++) {
            keys[i] = "blobs/mid" + i + ".bin";
        }
        uncache(f, keys);
        String big = Tool.run("sha256sum", f.src.resolve("blobs/big.bin").toString()).ok().out().split(" ")[0];
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<String>> same = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                same.add(pool.submit(() -> Tool.run("sha256sum", f.mnt.resolve("blobs/big.bin").toString())
                        .ok().out().split(" ")[0]));
            }
            for (Future<String> s : same) {
                assertEquals(big, s.get());
            }
            List<Future<Boolean>> different = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                String name = "blobs/mid" + i + ".bin";
                different.add(pool.submit(() -> Tool.run("cmp", f.src.resolve(name).toString(),
                        f.mnt.resolve(name).toString()).exit() == 0));
            }
            for (Future<Boolean> d : different) {
                assertTrue(d.get());
            }
        } finally {
            pool.shutdownNow();
        }
        assertFetched(f, keys);
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void pythonReadsWithSeeks(TestRegistries.Kind kind) throws Exception {
        Fixture f = fixture(kind);
        uncache(f, "blobs/mid3.bin", "blobs/big.bin");
        // Seeks while the object is still being fetched: near the start, far ahead of the
        // fetch (a sequential run there too), then the end (which waits for the whole object).
        String script = String.join("\n",
                "import sys, os",
                "a = open(sys.argv[1], 'rb'); b = open(sys.argv[2], 'rb')",
                "size = os.path.getsize(sys.argv[1])",
                "assert size == os.path.getsize(sys.argv[2])",
                "for off in [0, size // 2, 17 << 20, 123457, 1, size - 10, size - 1, size]:",
                "    a.seek(off); b.seek(off)",
                "    assert a.read(70000) == b.read(70000), off",
                "a.seek(size * 3 // 4); b.seek(size * 3 // 4)",
                "for i in range(32):",
                "    assert a.read(65536) == b.read(65536), i",
                "a.seek(-100, 2); b.seek(-100, 2); assert a.read() == b.read()",
                "print('ok')");
        Tool.Result r = Tool.run("python3", "-c", script, f.src.resolve("blobs/mid3.bin").toString(),
                f.mnt.resolve("blobs/mid3.bin").toString()).ok();
        assertEquals("ok", r.out().trim());
        r = Tool.run("python3", "-c", script, f.src.resolve("blobs/big.bin").toString(),
                f.mnt.resolve("blobs/big.bin").toString()).ok();
        assertEquals("ok", r.out().trim());
        assertFetched(f, "blobs/mid3.bin", "blobs/big.bin");
    }
}
