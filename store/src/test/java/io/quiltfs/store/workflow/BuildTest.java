package io.quiltfs.store.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    /**
     * A file still being written while it is packaged (a log, an export not finished): the
     * revision must not be published with a row that its data file does not match (a local
     * registry copies the file as it is at copy time, not as it was hashed), so the build is
     * refused and {@code latest} is not made.
     */
    @Test
    void aFileWrittenToWhileItIsPackagedIsRefused() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path grow = src.resolve("grow.log");
        byte[] chunk = new byte[64 << 10];
        new java.util.Random(1).nextBytes(chunk);
        try (java.io.OutputStream out = Files.newOutputStream(grow)) {
            for (int i = 0; i < 256; i++) { // 16 MiB: two chunks to hash
                out.write(chunk);
            }
        }
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread writer = new Thread(() -> {
            try (java.io.OutputStream out = Files.newOutputStream(grow, java.nio.file.StandardOpenOption.APPEND)) {
                while (!stop.get()) {
                    out.write(chunk, 0, 100);
                    out.flush();
                    Thread.sleep(1);
                }
            } catch (IOException | InterruptedException e) {
                // the test ends
            }
        });
        writer.start();
        try (LocalRegistry r = new LocalRegistry(tmp.resolve("reg"))) {
            PackageName pkg = PackageName.parse("x/y");
            IOException e = assertThrows(IOException.class, () -> Build.build(r, pkg, src, "m", null,
                    HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE));
            assertTrue(e.getMessage().contains("grow.log") && e.getMessage().contains("changed while"), e.getMessage());
            assertEquals(null, r.latest(pkg), "nothing published");
        } finally {
            stop.set(true);
            writer.join();
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
