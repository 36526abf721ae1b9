package io.quiltfs.nativetests.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.testing.TestRegistries;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every checksum type, both ways. quilt3 8.0.0 writes sha2-256-chunked on its own; it reads and
 * verifies SHA256 and CRC64NVME rows but has no setting to write them, so the driver makes those
 * rows with quilt3's own checksum code (see {@code quilt3_driver.py set_hash_type}).
 */
class HashTypesInteropTest {
    @TempDir
    Path tmp;

    static Stream<Arguments> kindsAndTypes() {
        List<Arguments> out = new ArrayList<>();
        for (TestRegistries.Kind k : TestRegistries.kinds()) {
            for (HashType t : HashType.values()) {
                out.add(Arguments.of(k, t));
            }
        }
        return out.stream();
    }

    /**
     * quilt3 writes rows of the type, quiltfs reads and verifies them and computes the same
     * checksums; quiltfs writes the same folder with the same type and gets the same top hash,
     * and quilt3 fetches and verifies what quiltfs wrote.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("kindsAndTypes")
    void bothWriteAndVerifyTheSameRows(TestRegistries.Kind kind, HashType type) throws Exception {
        Path src = tmp.resolve("src");
        Map<String, Path> files = Fixture.write(src);
        String reg = kind.newRegistry(tmp);
        Quilt3 quilt3 = new Quilt3(tmp, kind);
        JsonNode published = quilt3.publish(reg, Fixture.PACKAGE, src, new Quilt3.Build()
                .message(type.wireName()).hashType(type.wireName()));
        String top = published.get("top_hash").asText();
        try (Registry r = kind.open(reg)) {
            Manifest m = r.readManifest(top);
            Agreement.sameManifest(published.get("view"), m);
            for (Entry e : m.entries()) {
                assertEquals(type, e.hash().type(), "hash type of " + e.logicalKey());
                assertEquals(e.hash(), FileHasher.hash(files.get(e.logicalKey()), type),
                        "quiltfs's " + type.wireName() + " of " + e.logicalKey() + " vs quilt3's");
            }
            Agreement.fetchesSameBytes(m, r, kind, tmp.resolve("fetch-home"), files);
        }

        String reg2 = kind.newRegistry(tmp);
        Quiltfs quiltfs = new Quiltfs(tmp.resolve("home"), kind);
        String mine = quiltfs.json("build", Fixture.PACKAGE, src.toString(), "--registry", reg2,
                "-m", type.wireName(), "--hash-type", type.wireName()).get("top_hash").asText();
        assertEquals(top, mine, "the same folder published by quiltfs with " + type.wireName() + " rows");
        JsonNode fv = quilt3.fetchVerify(reg2, Fixture.PACKAGE, null, tmp.resolve("out"));
        assertEquals(mine, fv.get("top_hash").asText());
        fv.get("view").get("rows").forEach(r -> assertEquals(type.wireName(), r.get("hash").get("type").asText()));
        assertTrue(fv.get("verified").asBoolean(), "quilt3's Package.verify of " + type.wireName() + " rows");
        Agreement.sameFiles(tmp.resolve("out"), files);
    }
}
