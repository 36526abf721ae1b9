package io.quiltfs.nativetests.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.testing.TestRegistries;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A package with no files at all (a header and nothing else) goes both ways. */
class EmptyPackageInteropTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void anEmptyPackageGoesBothWays(TestRegistries.Kind kind) throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Quilt3 quilt3 = new Quilt3(tmp, kind);
        Quiltfs quiltfs = new Quiltfs(tmp.resolve("home"), kind);

        String reg = kind.newRegistry(tmp);
        JsonNode published = quilt3.publish(reg, "interop/empty", empty, new Quilt3.Build().message("nothing"));
        String top = published.get("top_hash").asText();
        try (Registry r = kind.open(reg)) {
            Manifest m = r.readManifest(top);
            assertEquals(0, m.size());
            Agreement.sameManifest(published.get("view"), m);
        }
        assertEquals(top, quiltfs.json("browse", reg, "interop/empty").get("latest").asText());

        String reg2 = kind.newRegistry(tmp);
        String mine = quiltfs.run("build", "interop/empty", empty.toString(), "--registry", reg2, "-m", "nothing")
                .strip();
        assertEquals(top, mine, "the same empty package from quiltfs");
        JsonNode fv = quilt3.fetchVerify(reg2, "interop/empty", null, tmp.resolve("out"));
        assertEquals(mine, fv.get("top_hash").asText());
        assertTrue(fv.get("verified").asBoolean());
        assertEquals(0, fv.get("files").asInt());
    }
}
