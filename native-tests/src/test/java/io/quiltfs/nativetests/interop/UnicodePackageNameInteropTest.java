package io.quiltfs.nativetests.interop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.testing.TestRegistries;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * quilt3 takes any Unicode letters and digits in a package name ({@code [\w-]+} in Python): such
 * a package is listed, installed and made by quiltfs as quilt3 does.
 */
class UnicodePackageNameInteropTest {
    static final String PKG = "donn\u00e9es/caf\u00e9";

    @org.junit.jupiter.api.io.TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aPackageNamedInAnotherScriptGoesBothWays(TestRegistries.Kind kind) throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a b+c.txt"), "one\n");
        Quilt3 quilt3 = new Quilt3(tmp, kind);
        Quiltfs quiltfs = new Quiltfs(tmp.resolve("home"), kind);
        String reg = kind.newRegistry(tmp);
        String top = quilt3.publish(reg, PKG, src, new Quilt3.Build().message("m")).get("top_hash").asText();

        JsonNode listed = quiltfs.json("browse", reg);
        assertTrue(listed.toString().contains(PKG), listed.toString());
        Path work = tmp.resolve("work");
        quiltfs.run("install", PKG, "--registry", reg, "--dest", work.toString());
        assertArrayEquals(Files.readAllBytes(src.resolve("a b+c.txt")), Files.readAllBytes(work.resolve("a b+c.txt")));

        String reg2 = kind.newRegistry(tmp);
        assertEquals(top, quiltfs.run("build", PKG, src.toString(), "--registry", reg2, "-m", "m").strip());
        JsonNode fv = quilt3.fetchVerify(reg2, PKG, null, tmp.resolve("out"));
        assertTrue(fv.get("verified").asBoolean());
    }
}
