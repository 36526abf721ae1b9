package io.quiltfs.store.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.workflow.Build;
import io.quiltfs.store.workflow.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local registry on a real small file system (a 1 MiB tmpfs, mounted where the test may mount,
 * skipped elsewhere) that is read-only or full: one line naming the registry and what was being
 * stored (never a temporary file), {@code latest} untouched, no temporary file left behind.
 */
class LocalRegistryDiskTest {
    static final PackageName PKG = PackageName.parse("team/data");

    @TempDir
    Path tmp;
    Path disk;

    @BeforeEach
    void mount() throws Exception {
        disk = Files.createDirectories(tmp.resolve("disk"));
        Assumptions.assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", disk.toString()) == 0,
                "cannot mount a tmpfs here");
    }

    @AfterEach
    void unmount() throws Exception {
        if (disk != null) {
            run("umount", disk.toString());
        }
    }

    static int run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    Path folder(int bytes) throws IOException {
        Path src = Files.createDirectories(tmp.resolve("src" + bytes));
        byte[] b = new byte[bytes];
        new Random(bytes).nextBytes(b);
        Files.write(src.resolve("big.bin"), b);
        Files.writeString(src.resolve("small.txt"), "small");
        return src;
    }

    @Test
    void aFullRegistryIsOneLineNamingItAndWhatWasStored() throws Exception {
        LocalRegistry r = new LocalRegistry(disk.resolve("reg"));
        String first = Build.build(r, PKG, folder(1000), "fits", null, HashType.SHA2_256_CHUNKED, Clock.systemUTC(),
                Progress.NONE).topHash();
        RegistryException e = assertThrows(RegistryException.class, () -> Build.build(r, PKG, folder(2 << 20), "too big",
                null, HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE));
        assertEquals("cannot write to the registry " + r.uri() + " (storing team/data/big.bin): No space left on device",
                e.getMessage());
        assertEquals(first, r.latest(PKG), "latest did not move");
        try (Stream<Path> s = Files.list(disk.resolve("reg/.quilt/quiltfs/tmp"))) {
            assertEquals(List.of(), s.toList(), "no temporary file left behind");
        }
    }

    @Test
    void aReadOnlyRegistryIsOneLineNamingIt() throws Exception {
        LocalRegistry r = new LocalRegistry(disk.resolve("reg"));
        String first = Build.build(r, PKG, folder(1000), "fits", null, HashType.SHA2_256_CHUNKED, Clock.systemUTC(),
                Progress.NONE).topHash();
        assertEquals(0, run("mount", "-o", "remount,ro", disk.toString()));
        Path src = folder(1000);
        Files.writeString(src.resolve("small.txt"), "changed"); // a new object to store
        RegistryException e = assertThrows(RegistryException.class, () -> Build.build(r, PKG, src, "read-only", null,
                HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE));
        assertTrue(e.getMessage().startsWith("cannot write to the registry " + r.uri() + " (storing "), e.getMessage());
        assertTrue(e.getMessage().endsWith("): Read-only file system"), e.getMessage());
        assertFalse(e.getMessage().contains(".tmp"), e.getMessage());
        assertEquals(first, r.latest(PKG));
        // Writes that need no new object fail the same way: the manifest, the pointers, latest's lock.
        RegistryException m = assertThrows(RegistryException.class, () -> r.writeManifestBytes("a".repeat(64), new byte[1]));
        assertEquals("cannot write to the registry " + r.uri() + " (storing .quilt/packages/" + "a".repeat(64)
                + "): Read-only file system", m.getMessage());
        RegistryException c = assertThrows(RegistryException.class, () -> r.compareAndSetLatest(PKG, first, "b".repeat(64)));
        assertEquals("cannot write to the registry " + r.uri() + " (storing .quilt/named_packages/team/data/latest)"
                + ": Read-only file system", c.getMessage());
        assertNull(r.readPointer(PKG, "1"));
        // In another locale's words (the C library's strerror), the file system itself is asked.
        Path root = disk.resolve("reg");
        assertEquals("Read-only file system", LocalRegistry.wholeFolder(new java.nio.file.FileSystemException(
                root.resolve("x").toString(), null, "Dateisystem ist nur lesbar"), root));
        assertEquals("Read-only file system", LocalRegistry.wholeFolder(new IOException("Dateisystem ist nur lesbar"), root));
        assertNull(LocalRegistry.wholeFolder(new java.nio.file.NoSuchFileException(root.resolve("x").toString()), root));
        assertNull(LocalRegistry.wholeFolder(new java.nio.file.FileSystemException(root.toString(), null, "Ist ein Verzeichnis"),
                tmp), "a writable file system with room: about one file");
        // Tags and pointer deletions too (they take the same lock first).
        String tagged = "cannot write to the registry " + r.uri() + " (storing .quilt/quiltfs/tags/team/data/v1): "
                + "Read-only file system";
        assertEquals(tagged, assertThrows(RegistryException.class, () -> r.setTag(PKG, "v1", first)).getMessage());
        assertEquals(tagged, assertThrows(RegistryException.class,
                () -> r.compareAndSetTag(PKG, "v1", null, first)).getMessage());
        assertEquals(tagged, assertThrows(RegistryException.class, () -> r.deleteTag(PKG, "v1")).getMessage());
        assertEquals(tagged, assertThrows(RegistryException.class,
                () -> r.compareAndDeleteTag(PKG, "v1", first)).getMessage());
        String pointer = r.revisions(PKG).get(0).timestamp() + "";
        assertEquals("cannot write to the registry " + r.uri() + " (storing .quilt/named_packages/team/data/" + pointer
                + "): Read-only file system", assertThrows(RegistryException.class,
                () -> r.deletePointer(PKG, pointer)).getMessage());
    }

    /**
     * Full after a first build: the manifest's and a pointer's bytes fail in the channel's write
     * or sync, where the JDK throws a plain IOException rather than a FileSystemException; the
     * error still names the registry and what was being stored.
     */
    @Test
    void aRegistryFullWhenTheManifestIsWrittenIsNamed() throws Exception {
        LocalRegistry r = new LocalRegistry(disk.resolve("reg"));
        String first = Build.build(r, PKG, folder(1000), "fits", null, HashType.SHA2_256_CHUNKED, Clock.systemUTC(),
                Progress.NONE).topHash();
        byte[] block = new byte[4096];
        try (java.io.OutputStream out = Files.newOutputStream(disk.resolve("filler"))) {
            while (true) {
                out.write(block);
            }
        } catch (IOException full) {
            // the disk is full
        }
        String other = "c".repeat(64);
        RegistryException m = assertThrows(RegistryException.class,
                () -> r.writeManifestBytes(other, new byte[64 << 10]));
        assertEquals("cannot write to the registry " + r.uri() + " (storing .quilt/packages/" + other
                + "): No space left on device", m.getMessage());
        RegistryException p = assertThrows(RegistryException.class, () -> r.writePointer(PKG, "latest", other));
        assertEquals("cannot write to the registry " + r.uri() + " (storing .quilt/named_packages/team/data/latest)"
                + ": No space left on device", p.getMessage());
        assertEquals(first, r.latest(PKG), "latest did not move");
        assertFalse(Files.exists(disk.resolve("reg/.quilt/packages/" + other)));
        assertEquals("No space left on device", LocalRegistry.wholeFolder(new IOException("Kein Speicherplatz"),
                disk.resolve("reg")), "another locale's words: the file system is asked");
    }
}
