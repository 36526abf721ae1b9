package io.quiltfs.nativetests.interop;

import static io.quiltfs.nativetests.interop.Agreement.canon;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.cache.ChecksumMismatchException;
import io.quiltfs.store.cache.Fetcher;
import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.TestRegistries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** quilt3 publishes a package; quiltfs browses, reads, fetches, installs and mounts it. */
class Quilt3ToQuiltfsTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void quiltfsBrowsesReadsAndFetchesWhatQuilt3Published(TestRegistries.Kind kind) throws Exception {
        Map<String, Path> files = Fixture.write(tmp.resolve("src"));
        String reg = kind.newRegistry(tmp);
        Quilt3 quilt3 = new Quilt3(tmp, kind);
        JsonNode published = quilt3.publish(reg, Fixture.PACKAGE, tmp.resolve("src"), new Quilt3.Build()
                .message("from quilt3 ✓").meta(Fixture.PACKAGE_META).fileMeta(Fixture.FILE_META));
        String top = published.get("top_hash").asText();
        JsonNode view = published.get("view");
        assertEquals(top, view.get("top_hash").asText());

        Quiltfs quiltfs = new Quiltfs(tmp.resolve("home"), kind);
        Agreement.assertContains(quiltfs.json("browse", reg).get("packages"), Fixture.PACKAGE, "packages");
        JsonNode revs = quiltfs.json("browse", reg, Fixture.PACKAGE);
        assertEquals(top, revs.get("latest").asText(), "latest");
        assertEquals(top, revs.get("revisions").get(0).get("top_hash").asText(), "newest revision");
        assertEquals("from quilt3 ✓", revs.get("revisions").get(0).get("message").asText());
        assertTrue(quiltfs.run("browse", reg, Fixture.PACKAGE).contains(top + "  from quilt3 ✓ [latest]"));

        try (Registry r = kind.open(reg)) {
            assertEquals(top, r.latest(PackageName.parse(Fixture.PACKAGE)));
            Manifest m = r.readManifest(top); // verifies that the manifest hashes to its name
            Agreement.sameManifest(view, m);
            assertEquals(canon(Fixture.PACKAGE_META), canon(m.userMeta()), "package user_meta");
            assertEquals("from quilt3 ✓", m.message());
            Map<String, JsonNode> fileMeta = new java.util.TreeMap<>();
            io.quiltfs.store.json.Json.parse(Fixture.FILE_META).fields()
                    .forEachRemaining(f -> fileMeta.put(f.getKey(), f.getValue()));
            fileMeta.forEach((k, um) -> assertEquals(canon(um), canon(m.get(k).userMeta()), "user_meta of " + k));
            Entry big = m.get(Fixture.BIG);
            assertEquals(Fixture.BIG_SIZE, big.size());
            assertEquals(0, m.get(Fixture.EMPTY).size());
            assertEquals("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", m.get(Fixture.EMPTY).hash().value());

            Path file = tmp.resolve("manifest.jsonl");
            Files.write(file, r.readManifestBytes(top));
            assertEquals(top, quiltfs.run("manifest", "tophash", file.toString()).strip(), "manifest tophash");
            quiltfs.run("manifest", "validate", file.toString());

            Agreement.fetchesSameBytes(m, r, kind, tmp.resolve("fetch-home"), files);
        }
    }

    /**
     * Both clients refuse an object that no longer matches its row. A local quilt3 build leaves
     * physical keys pointing at the user's own files, so a later edit of such a file breaks the
     * revision; quiltfs must notice, as quilt3's verify does. (Local only: on S3 nothing can change
     * an object behind a versioned key.)
     */
    @org.junit.jupiter.api.Test
    void bothRefuseAnObjectThatChangedAfterPublishing() throws Exception {
        TestRegistries.Kind kind = TestRegistries.LOCAL;
        Path src = Files.createDirectories(tmp.resolve("src/d"));
        Files.writeString(src.resolve("f.txt"), "original\n");
        String reg = kind.newRegistry(tmp);
        Quilt3 quilt3 = new Quilt3(tmp, kind);
        String top = quilt3.build(reg, "interop/changed", tmp.resolve("src"), new Quilt3.Build());
        Files.writeString(src.resolve("f.txt"), "Original\n"); // same size, other bytes
        try (Registry r = kind.open(reg)) {
            Manifest m = r.readManifest(top);
            Fetcher f = new Fetcher(new ObjectCache(new Home(tmp.resolve("h"))), k -> r);
            ChecksumMismatchException e = assertThrows(ChecksumMismatchException.class, () -> f.fetch(m.get("d/f.txt")));
            assertTrue(e.getMessage().contains("d/f.txt"), e.getMessage());
        }
        JsonNode fv = quilt3.fetchVerify(reg, "interop/changed", null, tmp.resolve("out"));
        assertFalse(fv.get("verified").asBoolean(), "quilt3 refuses it too");
        assertEquals("d/f.txt", fv.get("mismatched").get(0).asText());
    }

    /**
     * quilt3 pushed a folder; quiltfs builds the same folder into the same package. Every object
     * is in the bucket already, stored by quilt3 without quiltfs's metadata (its S3 checksums,
     * composite for the file over 8 MiB, prove it), so nothing is uploaded again and every row
     * keeps quilt3's object.
     */
    @org.junit.jupiter.api.Test
    void quiltfsUploadsNothingThatQuilt3AlreadyStored() throws Exception {
        TestRegistries.Kind kind = TestRegistries.S3;
        Fixture.write(tmp.resolve("src"));
        String reg = kind.newRegistry(tmp);
        String theirs = new Quilt3(tmp, kind).build(reg, Fixture.PACKAGE, tmp.resolve("src"), new Quilt3.Build());

        JsonNode built = new Quiltfs(tmp.resolve("home"), kind).json("build", Fixture.PACKAGE,
                tmp.resolve("src").toString(), "--registry", reg, "-m", "the same files");
        assertEquals(0, built.get("uploaded").asInt(), "uploaded again: " + built);
        try (Registry r = kind.open(reg)) {
            Manifest before = r.readManifest(theirs);
            Manifest after = r.readManifest(built.get("top_hash").asText());
            assertEquals(before.size(), after.size());
            for (Entry e : after.entries()) {
                assertEquals(io.quiltfs.store.registry.PhysicalKey.parse(before.get(e.logicalKey()).physicalKey()),
                        io.quiltfs.store.registry.PhysicalKey.parse(e.physicalKey()), e.logicalKey());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void quiltfsInstallsWhatQuilt3Published(TestRegistries.Kind kind) throws Exception {
        Map<String, Path> files = Fixture.write(tmp.resolve("src"));
        String reg = kind.newRegistry(tmp);
        Quilt3 quilt3 = new Quilt3(tmp, kind);
        String top = quilt3.build(reg, Fixture.PACKAGE, tmp.resolve("src"), new Quilt3.Build()
                .message("from quilt3").meta(Fixture.PACKAGE_META).fileMeta(Fixture.FILE_META));

        Quiltfs quiltfs = new Quiltfs(tmp.resolve("home"), kind);
        Path work = tmp.resolve("work");
        quiltfs.run("install", Fixture.PACKAGE, "--registry", reg, "--dest", work.toString());
        Agreement.sameFiles(work, files);
        Workflow.assertState(quiltfs, Fixture.PACKAGE, "UpToDate");
        // A pinned revision installs the same way.
        Path pinned = tmp.resolve("pinned");
        new Quiltfs(tmp.resolve("home2"), kind).run("install", Fixture.PACKAGE + "@" + top.substring(0, 10),
                "--registry", reg, "--dest", pinned.toString());
        Agreement.sameFiles(pinned, files);
    }
}
