package io.quiltfs.store.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.registry.PackageName;
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
