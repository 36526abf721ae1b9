package io.quiltfs.nativetests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.hash.Hashers;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.testing.TestRegistries;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Broken rows fail with EIO while the rest of the mount keeps working; big packages mount. */
class MountFailuresTest {
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void missingAndCorruptObjectsGiveEio(TestRegistries.Kind kind) throws Exception {
        try (Fixture f = new Fixture(kind)) {
            f.write("good.txt", "good\n");
            f.write("other.txt", "other content\n");
            f.write("third.txt", "third\n");
            f.build();
            Entry good = f.manifest.get("good.txt");
            Entry other = f.manifest.get("other.txt");
            PhysicalKey pk = PhysicalKey.parse(good.physicalKey());
            String missing = new PhysicalKey(pk.scheme(), pk.bucket(), pk.path() + ".missing", null).toString();
            Manifest broken = f.manifest.toBuilder()
                    .add(new Entry("broken/missing.txt", missing, good.size(), good.hash()))
                    // the bytes of other.txt under a hash no row has: a corrupt object
                    .add(new Entry("broken/corrupt.txt", other.physicalKey(), other.size(),
                            Hashers.of(HashType.SHA2_256_CHUNKED, "OTHER CONTENT\n".getBytes())))
                    .add(new Entry("broken/wrong-size.txt", other.physicalKey(), other.size() + 5,
                            Checksum.of(HashType.SHA2_256_CHUNKED, other.hash().value())))
                    .build();
            f.publish(broken).mount();
            for (String name : new String[] {"missing.txt", "corrupt.txt", "wrong-size.txt"}) {
                Tool.Result r = Tool.run("cat", f.mnt.resolve("broken/" + name).toString());
                assertNotEquals(0, r.exit(), name);
                assertTrue(r.err().contains("Input/output error"), name + ": " + r.err());
            }
            assertEquals("good\n", Tool.run("cat", f.mnt.resolve("good.txt").toString()).ok().out());
            assertEquals("third\n", Tool.run("cat", f.mnt.resolve("third.txt").toString()).ok().out());
            assertEquals("other content\n", Tool.run("cat", f.mnt.resolve("other.txt").toString()).ok().out());
            // Still failing (nothing unverified was kept), and the mount is still up.
            assertNotEquals(0, Tool.run("cat", f.mnt.resolve("broken/corrupt.txt").toString()).exit());
            assertTrue(Tool.run("ls", f.mnt.resolve("broken").toString()).ok().out().contains("corrupt.txt"));
        }
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aHundredThousandEntries(TestRegistries.Kind kind) throws Exception {
        try (Fixture f = new Fixture(kind)) {
            f.write("seed.txt", "same bytes\n");
            f.build();
            Entry seed = f.manifest.get("seed.txt");
            Manifest.Builder b = Manifest.builder().message("100k");
            for (int d = 0; d < 100; d++) {
                for (int i = 0; i < 1000; i++) {
                    b.add(new Entry("dir" + d + "/f" + i + ".txt", seed.physicalKey(), seed.size(), seed.hash()));
                }
            }
            f.publish(b.build()).mount();
            assertEquals("100101", Tool.sh("find " + MountToolsTest.q(f.mnt) + " | wc -l").ok().out().trim());
            assertEquals("1000", Tool.sh("ls " + MountToolsTest.q(f.mnt.resolve("dir42")) + " | wc -l").ok().out().trim());
            assertEquals("same bytes\n", Tool.run("cat", f.mnt.resolve("dir99/f999.txt").toString()).ok().out());
            assertTrue(Files.isDirectory(f.mnt.resolve("dir0")));
            assertEquals(0, Tool.run("stat", f.mnt.resolve("dir7/f7.txt").toString()).exit());
            assertTrue(Tool.run("stat", Path.of(f.mnt.toString(), "dir7", "f1000.txt").toString()).exit() != 0);
        }
    }
}
