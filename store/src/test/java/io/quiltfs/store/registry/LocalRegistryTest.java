package io.quiltfs.store.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.hash.Hashers;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.testing.Vectors;
import io.quiltfs.store.workflow.Build;
import io.quiltfs.store.workflow.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalRegistryTest {
    @TempDir
    Path tmp;

    @Test
    void vectorRegistryBrowses() throws Exception {
        LocalRegistry r = new LocalRegistry(Vectors.quilt().resolve("registry"));
        PackageName p = PackageName.parse("test/test");
        assertEquals(List.of(p), r.listPackages());
        assertEquals(List.of(new Revision(1692646567L,
                "848238cb1cd8d8c06c3657d50e71c515cb913f0659ae55ffbfcec0f0e3e37e2c")), r.revisions(p));
        String h = r.resolve(PackageRef.parse("test/test@848238"));
        assertEquals(r.latest(p), h);
        assertEquals(1, r.readManifest(h).size());
    }

    /**
     * A registry folder is shared: its manifests, pointers and tags get the permissions any new
     * file gets there (the umask's), as quilt3 writes them, not the owner-only ones of a temporary
     * file, which leave every other user unable to read the package.
     */
    @Test
    void manifestsPointersAndTagsAreReadableAsAnyNewFile() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("reg"));
        Path probe = Files.createFile(tmp.resolve("probe")); // what the umask gives a new file
        java.util.Set<java.nio.file.attribute.PosixFilePermission> expected = Files.getPosixFilePermissions(probe);
        org.junit.jupiter.api.Assumptions.assumeTrue(expected.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ)
                || expected.contains(java.nio.file.attribute.PosixFilePermission.GROUP_READ),
                "the umask lets others read: " + expected);
        LocalRegistry r = new LocalRegistry(root);
        PackageName p = PackageName.parse("ns/pkg");
        Clock c1 = Clock.fixed(Instant.ofEpochSecond(1_700_000_000L), ZoneOffset.UTC);
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "one");
        // A data file too, even copied from a file only its owner may read (as quilt3's copy).
        Files.setPosixFilePermissions(src.resolve("a.txt"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        String top = Build.build(r, p, src, "first", null, HashType.SHA2_256_CHUNKED, c1, Progress.NONE).topHash();
        r.setTag(p, "v1", top);
        assertTrue(r.createPointer(p, "1700000001", top));
        for (String f : List.of(".quilt/packages/" + top, ".quilt/named_packages/ns/pkg/latest",
                ".quilt/named_packages/ns/pkg/1700000000", ".quilt/named_packages/ns/pkg/1700000001",
                ".quilt/quiltfs/tags/ns/pkg/v1", "ns/pkg/a.txt")) {
            assertEquals(expected, Files.getPosixFilePermissions(root.resolve(f)), f);
        }
    }

    @Test
    void buildWritesPointersWithoutNewlineAndNeverOverwritesData() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("src/sub"));
        Files.writeString(dir.resolve("a.txt"), "one");
        Files.writeString(tmp.resolve("src/b.txt"), "bee");
        LocalRegistry r = new LocalRegistry(tmp.resolve("reg"));
        PackageName p = PackageName.parse("ns/pkg");
        Clock c1 = Clock.fixed(Instant.ofEpochSecond(1_700_000_000L), ZoneOffset.UTC);
        var first = Build.build(r, p, tmp.resolve("src"), "first", null, HashType.SHA2_256_CHUNKED, c1, Progress.NONE);
        byte[] latest = Files.readAllBytes(tmp.resolve("reg/.quilt/named_packages/ns/pkg/latest"));
        assertEquals(64, latest.length, "no trailing newline");
        assertEquals(first.topHash(), new String(latest));
        try (var names = Files.list(tmp.resolve("reg/.quilt/named_packages/ns/pkg"))) {
            assertEquals(List.of("1700000000", "latest"), names.map(n -> n.getFileName().toString()).sorted().toList(),
                    "no temporary files where quilt3 lists revisions");
        }
        assertEquals(first.topHash(), new String(Files.readAllBytes(tmp.resolve("reg/.quilt/named_packages/ns/pkg/1700000000"))));
        assertEquals("one", Files.readString(tmp.resolve("reg/ns/pkg/sub/a.txt")));

        // Second revision changes sub/a.txt: the first revision must still read "one".
        Files.writeString(dir.resolve("a.txt"), "two!");
        var second = Build.build(r, p, tmp.resolve("src"), "second", null, HashType.SHA2_256_CHUNKED, c1, Progress.NONE);
        assertNotEquals(first.topHash(), second.topHash());
        Manifest m1 = r.readManifest(first.topHash());
        Manifest m2 = r.readManifest(second.topHash());
        assertEquals("one", Files.readString(PhysicalKey.parse(m1.get("sub/a.txt").physicalKey()).filePath()));
        assertEquals("two!", Files.readString(PhysicalKey.parse(m2.get("sub/a.txt").physicalKey()).filePath()));
        assertEquals(m1.get("b.txt").physicalKey(), m2.get("b.txt").physicalKey(), "unchanged content is reused");
        // Same second: the timestamp pointer moves on instead of replacing the first revision's.
        assertEquals(List.of(1700000001L, 1700000000L), r.revisions(p).stream().map(Revision::timestamp).toList());
    }

    @Test
    void prefixResolutionNamesAmbiguousCandidates() throws Exception {
        LocalRegistry r = new LocalRegistry(tmp);
        String a = "abcdef" + "0".repeat(58);
        String b = "abcdef" + "1".repeat(58);
        Files.createDirectories(tmp.resolve(".quilt/packages"));
        Files.writeString(tmp.resolve(".quilt/packages/" + a), "x");
        Files.writeString(tmp.resolve(".quilt/packages/" + b), "x");
        RegistryException e = assertThrows(RegistryException.Ambiguous.class, () -> r.resolvePrefix("abcdef"));
        assertTrue(e.getMessage().contains(a) && e.getMessage().contains(b), e.getMessage());
        assertEquals(a, r.resolvePrefix("abcdef0"));
        assertThrows(RegistryException.NotFound.class, () -> r.resolvePrefix("ffffff"));
    }

    @Test
    void compareAndSetLatestAndTags() throws Exception {
        LocalRegistry r = new LocalRegistry(tmp);
        PackageName p = PackageName.parse("a/b");
        String h1 = "1".repeat(64);
        String h2 = "2".repeat(64);
        assertNull(r.compareAndSetLatest(p, null, h1));
        assertEquals(h1, r.compareAndSetLatest(p, null, h2), "someone else moved it");
        assertNull(r.compareAndSetLatest(p, h1, h2));
        assertEquals(h2, r.latest(p));
        r.setTag(p, "v1", h1);
        assertEquals(h1, r.tag(p, "v1"));
        assertTrue(Files.exists(tmp.resolve(".quilt/quiltfs/tags/a/b/v1")), "tags live outside named_packages");
        assertEquals(1, r.tags(p).size());
        assertTrue(r.deleteTag(p, "v1"));
        assertNull(r.tag(p, "v1"));
        assertThrows(IllegalArgumentException.class, () -> r.setTag(p, "latest", h1));
    }

    @Test
    void compareAndDeleteTagDeletesOnlyWhatTheCallerSaw() throws Exception {
        LocalRegistry r = new LocalRegistry(tmp);
        PackageName p = PackageName.parse("a/b");
        String h1 = "1".repeat(64);
        String h2 = "2".repeat(64);
        String h3 = "3".repeat(64);
        assertEquals("", r.compareAndDeleteTag(p, "v1", h1), "no such tag");
        r.setTag(p, "v1", h2);
        assertEquals(h2, r.compareAndDeleteTag(p, "v1", h1), "re-pointed since the caller read it");
        assertEquals(h2, r.tag(p, "v1"), "and put back");
        assertNull(r.compareAndDeleteTag(p, "v1", h2));
        assertNull(r.tag(p, "v1"));

        // A tag --force from another process waits for the lock: it lands after the delete, and
        // its value stays.
        r.setTag(p, "v1", h2);
        java.util.concurrent.atomic.AtomicReference<Thread> forcing = new java.util.concurrent.atomic.AtomicReference<>();
        r.afterTagRead = () -> {
            Thread t = new Thread(() -> {
                try {
                    new LocalRegistry(tmp).setTag(p, "v1", h3);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            t.start();
            forcing.set(t);
        };
        assertNull(r.compareAndDeleteTag(p, "v1", h2));
        r.afterTagRead = null;
        forcing.get().join();
        assertEquals(h3, r.tag(p, "v1"));
        try (var s = Files.list(tmp.resolve(".quilt/quiltfs/tmp"))) {
            assertEquals(0, s.count(), "nothing left in the temporary folder");
        }
    }

    @Test
    void manifestThatDoesNotHashToItsNameIsRefused() throws Exception {
        LocalRegistry r = new LocalRegistry(tmp);
        String fake = "f".repeat(64);
        r.writeManifestBytes(fake, "{\"version\":\"v0\",\"message\":null}\n".getBytes());
        RegistryException e = assertThrows(RegistryException.class, () -> r.readManifest(fake));
        assertTrue(e.getMessage().contains("does not hash to its name"));
        assertTrue(Hashers.of(HashType.SHA256, new byte[0]).isWellFormed());
    }

    /**
     * A push killed while it copies a data object leaves its temporary copy in the registry's own
     * temporary folder (never among the package's data, which other tools list), and a later
     * write clears those a day old.
     */
    @Test
    void copiesAreMadeOutsideTheDataAndStaleOnesAreCleared() throws Exception {
        Path reg = tmp.resolve("reg");
        Path tmpDir = Files.createDirectories(reg.resolve(".quilt/quiltfs/tmp"));
        Path stale = Files.writeString(tmpDir.resolve(".a.txt.123.tmp"), "half of a killed copy");
        Files.setLastModifiedTime(stale, java.nio.file.attribute.FileTime.from(
                java.time.Instant.now().minus(2, java.time.temporal.ChronoUnit.DAYS)));
        Path recent = Files.writeString(tmpDir.resolve(".b.txt.456.tmp"), "a copy under way elsewhere");
        Path src = Files.writeString(tmp.resolve("a.txt"), "one");
        LocalRegistry r = new LocalRegistry(reg);
        var sum = io.quiltfs.store.hash.FileHasher.hash(src, io.quiltfs.store.hash.HashType.SHA2_256_CHUNKED);
        var placed = r.place(PackageName.parse("t/p"), "a.txt", sum, 3, src);
        assertEquals("one", Files.readString(placed.key().filePath()));
        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(recent));
        try (var files = Files.list(reg.resolve("t/p"))) {
            assertEquals(List.of(reg.resolve("t/p/a.txt")), files.toList());
        }
    }

    /**
     * The bytes stored are the bytes of the row's hash: a file whose content is no longer that of
     * the checksum it is placed with (rewritten in place since it was hashed, at the same size)
     * is refused, and nothing is left at either place or among the temporary files.
     */
    @Test
    void aFileThatNoLongerHoldsItsChecksumIsNotStored() throws Exception {
        LocalRegistry r = new LocalRegistry(tmp.resolve("reg"));
        PackageName p = PackageName.parse("ns/pkg");
        Path f = tmp.resolve("f.bin");
        Files.writeString(f, "hashed");
        var sum = io.quiltfs.store.hash.FileHasher.hash(f, HashType.SHA2_256_CHUNKED);
        Files.writeString(f, "HASHED"); // same size
        RegistryException e = assertThrows(RegistryException.class, () -> r.place(p, "f.bin", sum, 6, f));
        assertEquals("cannot store ns/pkg/f.bin in " + r.uri() + ": " + f + " no longer holds the bytes it was hashed"
                + " with (it changed meanwhile: is something still writing to it?); nothing was published", e.getMessage());
        e = assertThrows(RegistryException.class, () -> r.place(p, "f.bin", sum, 7, f));
        assertTrue(e.getMessage().contains(" holds 6 bytes, not the 7 it was hashed with"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("reg/ns/pkg/f.bin")));
        assertFalse(Files.exists(tmp.resolve("reg/.quilt/objects")));
        try (var s = Files.list(tmp.resolve("reg/.quilt/quiltfs/tmp"))) {
            assertEquals(List.of(), s.toList());
        }
        Files.writeString(f, "hashed");
        assertEquals(PhysicalKey.ofFile(tmp.resolve("reg/ns/pkg/f.bin")), r.place(p, "f.bin", sum, 6, f).key());
        assertEquals("hashed", Files.readString(tmp.resolve("reg/ns/pkg/f.bin")));
        Path gone = tmp.resolve("gone.bin");
        assertThrows(java.nio.file.NoSuchFileException.class, () -> r.place(p, "gone.bin", sum, 6, gone));
    }

    /**
     * A file system error without a reason (a file where the registry needs a folder, a file
     * that does not exist) is that error, not a crash while deciding whether to name the registry.
     */
    @Test
    void aFileWhereTheRegistryNeedsAFolderIsThatError() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("reg/.quilt"));
        Files.createFile(root.resolve("packages"));
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "one");
        LocalRegistry r = new LocalRegistry(tmp.resolve("reg"));
        IOException e = assertThrows(IOException.class, () -> Build.build(r, PackageName.parse("ns/pkg"), src, "m",
                null, HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE));
        assertTrue(e instanceof java.nio.file.FileAlreadyExistsException, e.toString());
        assertTrue(e.getMessage().contains(".quilt/packages"), e.getMessage());
    }
}
