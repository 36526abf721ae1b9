package io.quiltfs.store.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.registry.PackageName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BuildTest {
    @TempDir
    Path tmp;

    /**
     * quilt3 8.0.0 made a package of this folder ({@code a.txt} = "hi\n", no message, no
     * metadata, {@code Package.set_dir} then {@code build}) with this top hash: its header is
     * {@code {"version": "v0", "user_meta": null, "message": null}}. quiltfs gives the same folder
     * the same top hash.
     */
    @Test
    void aFolderWithoutMetadataGetsQuilt3sTopHash() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "hi\n");
        try (LocalRegistry r = new LocalRegistry(tmp.resolve("reg"))) {
            Publisher.Result res = Build.build(r, PackageName.parse("x/y"), src, null, null,
                    HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE);
            assertEquals("43db3189f83d9f57c90c9a008fbce568991e66c219da0243d794b4c1af30cd6d", res.topHash());
            assertTrue(res.manifest().header().get("user_meta").isNull());
        }
    }

    /** A folder with one 16 MiB file (two chunks to hash), {@code grow.log}. */
    private Path folderWithBigFile() throws IOException {
        Path src = Files.createDirectories(tmp.resolve("src"));
        byte[] chunk = new byte[64 << 10];
        new java.util.Random(1).nextBytes(chunk);
        try (java.io.OutputStream out = Files.newOutputStream(src.resolve("grow.log"))) {
            for (int i = 0; i < 256; i++) {
                out.write(chunk);
            }
        }
        return src;
    }

    /** Runs {@code action} once, when the phase {@code phase} ends ({@code ending}) or begins. */
    private static Progress at(String phase, boolean ending, ThrowingRunnable action) {
        return new Progress() {
            private volatile String current;

            @Override
            public void begin(String p, long files, long bytes) {
                current = p;
                if (!ending && p.equals(phase)) {
                    run();
                }
            }

            @Override
            public void end() {
                if (ending && phase.equals(current)) {
                    run();
                }
            }

            private void run() {
                try {
                    action.run();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        };
    }

    private interface ThrowingRunnable {
        void run() throws IOException;
    }

    private static void append(Path f) throws IOException {
        Files.write(f, new byte[100], java.nio.file.StandardOpenOption.APPEND);
    }

    /**
     * A file still being written while it is packaged (a log, an export not finished): the
     * revision must not be published with a row that its data file does not match, so the build
     * is refused and {@code latest} is not made. Here it grows right after it was hashed: the
     * check after hashing sees it.
     */
    @Test
    void aFileWrittenToRightAfterItIsHashedIsRefused() throws Exception {
        Path src = folderWithBigFile();
        Path grow = src.resolve("grow.log");
        refused(src, at("hashing", true, () -> append(grow)), "changed while");
    }

    /** It grows after that check, before it is stored: the check right before the copy sees it. */
    @Test
    void aFileWrittenToBeforeItIsStoredIsRefused() throws Exception {
        Path src = folderWithBigFile();
        Path grow = src.resolve("grow.log");
        refused(src, at("uploading", false, () -> append(grow)), "changed while");
    }

    /**
     * Rewritten in place at the same size with its mtime put back (or within the mtime's
     * granularity), it passes every check of size and mtime: the local registry hashes the bytes
     * it copies and links the copy into place only if they are the row's.
     */
    @Test
    void aFileRewrittenInPlaceAtTheSameSizeBeforeItIsStoredIsRefused() throws Exception {
        Path src = folderWithBigFile();
        Path grow = src.resolve("grow.log");
        refused(src, at("uploading", false, () -> {
            java.nio.file.attribute.FileTime mtime = Files.getLastModifiedTime(grow);
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(grow,
                    java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap("rewritten!".getBytes()), ch.size() - 10);
            }
            Files.setLastModifiedTime(grow, mtime);
        }), "no longer holds the bytes it was hashed with");
        try (var s = Files.list(tmp.resolve("reg/.quilt/quiltfs/tmp"))) {
            assertEquals(java.util.List.of(), s.toList(), "the copy is not left behind");
        }
    }

    /** A file deleted before it is stored is a file not found (exit 4 at the CLI), not a crash. */
    @Test
    void aFileDeletedBeforeItIsStoredIsNotFound() throws Exception {
        Path src = folderWithBigFile();
        try (LocalRegistry r = new LocalRegistry(tmp.resolve("reg"))) {
            PackageName pkg = PackageName.parse("x/y");
            assertThrows(java.nio.file.NoSuchFileException.class, () -> Build.build(r, pkg, src, "m", null,
                    HashType.SHA2_256_CHUNKED, Clock.systemUTC(),
                    at("uploading", false, () -> Files.delete(src.resolve("grow.log")))));
            assertEquals(null, r.latest(pkg), "nothing published");
        }
    }

    /**
     * A check inside the publisher's file function can only throw unchecked: the publisher
     * unwraps it, so a file found missing there is still a NoSuchFileException (exit 4), not a
     * failure of the program (exit 1).
     */
    @Test
    void theFileFunctionsIOExceptionIsThrownAsItself() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "hi\n");
        try (LocalRegistry r = new LocalRegistry(tmp.resolve("reg"))) {
            PackageName pkg = PackageName.parse("x/y");
            Publisher.Result res = Build.build(r, pkg, src, "m", null, HashType.SHA2_256_CHUNKED, Clock.systemUTC(),
                    Progress.NONE);
            java.nio.file.NoSuchFileException gone = new java.nio.file.NoSuchFileException(src.resolve("a.txt").toString());
            assertThrows(java.nio.file.NoSuchFileException.class, () -> new Publisher(r, Clock.systemUTC()).publish(pkg,
                    res.manifest(), e -> {
                        throw new java.io.UncheckedIOException(gone);
                    }, null, true, Progress.NONE));
        }
    }

    private void refused(Path src, Progress hook, String why) throws Exception {
        try (LocalRegistry r = new LocalRegistry(tmp.resolve("reg"))) {
            PackageName pkg = PackageName.parse("x/y");
            IOException e = assertThrows(IOException.class, () -> Build.build(r, pkg, src, "m", null,
                    HashType.SHA2_256_CHUNKED, Clock.systemUTC(), hook));
            assertTrue(e.getMessage().contains("grow.log") && e.getMessage().contains(why), e.getMessage());
            assertEquals(null, r.latest(pkg), "nothing published");
            assertTrue(r.manifestsStartingWith("").isEmpty(), "no manifest written");
            assertFalse(Files.exists(tmp.resolve("reg/x/y/grow.log")), "nothing stored");
        }
    }

    @Test
    void metadataGivenIsTheHeadersUserMeta() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "hi\n");
        try (LocalRegistry r = new LocalRegistry(tmp.resolve("reg"))) {
            Publisher.Result res = Build.build(r, PackageName.parse("x/y"), src, "m", Json.parse("{\"k\": 1.0}"),
                    HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE);
            assertEquals("{\"k\":1.0}", io.quiltfs.store.json.CanonicalJson.toString(res.manifest().userMeta()));
            assertEquals("m", res.manifest().message());
        }
    }
}
