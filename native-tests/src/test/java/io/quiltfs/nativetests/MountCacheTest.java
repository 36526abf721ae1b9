package io.quiltfs.nativetests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.TestRegistries;
import io.quiltfs.store.workflow.Commit;
import io.quiltfs.store.workflow.Install;
import io.quiltfs.store.workflow.InstalledPackage;
import io.quiltfs.store.workflow.Progress;
import io.quiltfs.store.workflow.Push;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The object cache's size limit (`--cache-size`), through a real mount read with ordinary tools. */
class MountCacheTest {
    static final int FILES = 8;
    static final int SIZE = 3 << 20;
    static final long LIMIT = 10L << 20;

    /** Eight files of 3 MiB of random bytes under blobs/. */
    private static Fixture withBlobs(Fixture f) throws IOException {
        byte[] b = new byte[SIZE];
        Random r = new Random(3);
        Files.createDirectories(f.src.resolve("blobs"));
        for (int i = 0; i < FILES; i++) {
            r.nextBytes(b);
            Files.write(f.src.resolve("blobs/f" + i + ".bin"), b);
        }
        return f.build();
    }

    private static long objectBytes(Fixture f) throws Exception {
        Tool.Result du = Tool.sh("du -sb " + MountToolsTest.q(new Home(f.home).objects()) + " | cut -f1").ok();
        return Long.parseLong(du.out().trim()) - 4096; // the folder itself
    }

    /**
     * The cache is trimmed by a background thread right after the uses that pushed it beyond the
     * limit: within the limit (plus the kept commit) promptly, without any further use.
     */
    private static void assertWithinLimit(Fixture f) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
        long used = objectBytes(f);
        while (used > LIMIT + SIZE && System.nanoTime() < deadline) {
            Thread.sleep(20);
            used = objectBytes(f);
        }
        assertTrue(used <= LIMIT + SIZE, "cache within its limit (plus the kept commit) 5 s after the reads: " + used);
    }

    /**
     * Reading 24 MiB through a mount whose cache may hold 10 MiB: every file reads right, and the
     * cache stays within its limit. A version committed locally and not pushed yet, whose
     * working file was edited since, is the only copy of its content: the limit never deletes it.
     */
    @Test
    void readsEverythingWithinTheLimitAndKeepsUnpushedWork() throws Exception {
        try (Fixture f = withBlobs(new Fixture(TestRegistries.LOCAL))) {
            Home home = new Home(f.home);
            home.ensure();
            Install.Result installed = Install.install(home, f.registry, PackageRef.latest(Fixture.PKG), null,
                    java.util.List.of("blobs/f0.bin"), k -> {
                        try {
                            return Registries.sourceFor(k, f.registry, S3Settings.defaults());
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }, Progress.NONE);
            Path work = installed.workDir().resolve("blobs/f0.bin");
            byte[] mine = new byte[SIZE];
            new Random(99).nextBytes(mine);
            Files.write(work, mine);
            Commit.Result c = Commit.commit(InstalledPackage.require(home, Fixture.PKG), "mine", null,
                    HashType.SHA2_256_CHUNKED, Progress.NONE);
            Path committed = home.objects().resolve(Home.objectName(c.manifest().get("blobs/f0.bin").hash()));
            Files.writeString(work, "edited after the commit");
            assertTrue(Files.exists(committed));

            f.mount(LIMIT);
            String expected = Tool.sh("cd " + MountToolsTest.q(f.src) + " && sha256sum blobs/*.bin").ok().out();
            String whole = Tool.sh("cd " + MountToolsTest.q(f.src) + " && cat blobs/*.bin | sha256sum").ok().out();
            for (int round = 0; round < 2; round++) {
                assertEquals(expected, Tool.sh("cd " + MountToolsTest.q(f.mnt) + " && sha256sum blobs/*.bin").ok().out());
                assertWithinLimit(f);
                assertEquals(whole, Tool.sh("cd " + MountToolsTest.q(f.mnt) + " && cat blobs/*.bin | sha256sum").ok().out());
                assertWithinLimit(f);
            }
            assertTrue(Files.exists(committed), "the unpushed commit's content is still cached");
            f.unmount();

            Push.Result p = Push.push(InstalledPackage.require(home, Fixture.PKG), f.registry, false,
                    Clock.systemUTC(), Progress.NONE);
            assertTrue(p.pushed(), p.message());
            assertEquals(1, p.uploaded());
        }
    }
}
