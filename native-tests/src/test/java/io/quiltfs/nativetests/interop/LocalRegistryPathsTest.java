package io.quiltfs.nativetests.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.testing.TestRegistries;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A local registry whose folder name needs percent-encoding in a {@code file://} URL: both
 * clients name it by URL and by plain path and find the same packages.
 */
class LocalRegistryPathsTest {
    @TempDir
    Path tmp;

    @Test
    void bothClientsNameAnOddlyNamedRegistryFolderTheSameWay() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("x.txt"), "x\n");
        Path folder = Files.createDirectories(tmp.resolve("reg é #1 %20"));
        String uri = new LocalRegistry(folder).uri();
        Quilt3 quilt3 = new Quilt3(tmp, TestRegistries.LOCAL);
        String fromQuilt3 = quilt3.build(uri, "a/quilt3", src, new Quilt3.Build().message("m"));

        Quiltfs quiltfs = new Quiltfs(tmp.resolve("home"), TestRegistries.LOCAL);
        assertEquals(fromQuilt3, quiltfs.json("browse", folder.toString(), "a/quilt3").get("latest").asText());
        assertEquals(fromQuilt3, quiltfs.json("browse", uri, "a/quilt3").get("latest").asText());
        String fromQuiltfs = quiltfs.run("build", "a/quiltfs", src.toString(), "--registry", uri).strip();
        assertEquals(fromQuiltfs, quilt3.browse(folder.toString(), "a/quiltfs", null).get("top_hash").asText());
        assertEquals(fromQuiltfs, quilt3.browse(uri, "a/quiltfs", null).get("top_hash").asText());
        assertTrue(quilt3.fetchVerify(uri, "a/quiltfs", null, tmp.resolve("out")).get("verified").asBoolean());
    }
}
