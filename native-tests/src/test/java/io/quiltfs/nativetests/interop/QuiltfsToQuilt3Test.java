package io.quiltfs.nativetests.interop;

import static io.quiltfs.nativetests.interop.Agreement.canon;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.testing.TestRegistries;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** quiltfs publishes a package; quilt3 browses it, reads its top hash, fetches and verifies it. */
class QuiltfsToQuilt3Test {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void quilt3VerifiesWhatQuiltfsBuilt(TestRegistries.Kind kind) throws Exception {
        Path src = tmp.resolve("src");
        Map<String, Path> files = Fixture.write(src);
        String reg = kind.newRegistry(tmp);
        Quiltfs quiltfs = new Quiltfs(tmp.resolve("home"), kind);
        JsonNode built = quiltfs.json("build", Fixture.PACKAGE, src.toString(), "--registry", reg,
                "-m", "from quiltfs ✓", "--meta", Fixture.PACKAGE_META);
        String top = built.get("top_hash").asText();
        assertEquals(top, quiltfs.run("build", Fixture.PACKAGE, src.toString(), "--registry", reg, "-m",
                "from quiltfs ✓", "--meta", Fixture.PACKAGE_META).strip(), "the same build again: same top hash");

        Quilt3 quilt3 = new Quilt3(tmp, kind);
        JsonNode view = quilt3.browse(reg, Fixture.PACKAGE, top.substring(0, 8));
        assertEquals(top, view.get("top_hash").asText(), "quilt3 resolves a short hash of quiltfs's revision");
        // Another registry: quilt3 overwrites .quilt/packages/TOPHASH when it publishes a package
        // with the same top hash, with its own physical keys.
        assertEquals(top, quilt3.build(kind.newRegistry(tmp), Fixture.PACKAGE, src, new Quilt3.Build()
                .message("from quiltfs ✓").meta(Fixture.PACKAGE_META)),
                "the same folder, message and metadata published by quilt3");
        assertEquals("from quiltfs ✓", view.get("header").get("message").asText());
        assertEquals(canon(Fixture.PACKAGE_META), canon(view.get("header").get("user_meta")));
        try (Registry r = kind.open(reg)) {
            Agreement.sameManifest(view, r.readManifest(top));
        }

        // A second revision; quilt3 lists both pointers just as quiltfs does.
        Files.writeString(src.resolve("README.md"), "# interop\nsecond revision\n");
        String top2 = quiltfs.json("build", Fixture.PACKAGE, src.toString(), "--registry", reg, "-m", "second")
                .get("top_hash").asText();
        JsonNode listed = quilt3.list(reg);
        Agreement.assertContains(listed.get("packages"), Fixture.PACKAGE, "quilt3's package list");
        Map<String, String> q3Pointers = new java.util.TreeMap<>();
        listed.get("versions").get(Fixture.PACKAGE).forEach(v -> q3Pointers.put(v.get(0).asText(), v.get(1).asText()));
        Map<String, String> pointers = new java.util.TreeMap<>();
        JsonNode revs = quiltfs.json("browse", reg, Fixture.PACKAGE);
        revs.get("revisions").forEach(v -> pointers.put(v.get("timestamp").asText(), v.get("top_hash").asText()));
        pointers.put("latest", revs.get("latest").asText());
        assertEquals(pointers, q3Pointers, "pointers: quiltfs browse vs quilt3 list_package_versions");
        assertEquals(top2, q3Pointers.get("latest"));
        assertTrue(q3Pointers.containsValue(top), "the first revision's pointer");
        top = top2;

        Path out = tmp.resolve("quilt3-fetched");
        JsonNode fv = quilt3.fetchVerify(reg, Fixture.PACKAGE, null, out);
        try (Registry r = kind.open(reg)) {
            Agreement.sameManifest(fv.get("view"), r.readManifest(top));
        }
        assertTrue(fv.get("verified").asBoolean(), "quilt3's Package.verify of quiltfs's package");
        assertEquals(top, fv.get("top_hash").asText());
        assertEquals(files.size(), fv.get("files").asInt());
        Agreement.sameFiles(out, files);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void quilt3VerifiesWhatQuiltfsCommittedAndPushed(TestRegistries.Kind kind) throws Exception {
        Path src = tmp.resolve("src");
        Fixture.write(src);
        String reg = kind.newRegistry(tmp);
        Quilt3 quilt3 = new Quilt3(tmp, kind);
        String base = quilt3.build(reg, Fixture.PACKAGE, src, new Quilt3.Build().message("v1")
                .meta(Fixture.PACKAGE_META).fileMeta(Fixture.FILE_META));

        Quiltfs quiltfs = new Quiltfs(tmp.resolve("home"), kind);
        Path work = tmp.resolve("work");
        quiltfs.run("install", Fixture.PACKAGE, "--registry", reg, "--dest", work.toString());
        // Change, add (non-ASCII, empty), remove.
        Files.writeString(work.resolve("data/rows.csv"), "id,name\n1,alpha\n2,beta\n3,gamma\n");
        Files.createDirectories(work.resolve("nouveau"));
        Files.writeString(work.resolve("nouveau/çà et là.txt"), "ajouté par quiltfs\n", StandardCharsets.UTF_8);
        Files.write(work.resolve("nouveau/vide"), new byte[0]);
        Files.delete(work.resolve("a-b.txt"));
        quiltfs.run("commit", Fixture.PACKAGE, "-m", "quiltfs commit ✓");
        Workflow.assertState(quiltfs, Fixture.PACKAGE, "Ahead");
        quiltfs.run("push", Fixture.PACKAGE);
        Workflow.assertState(quiltfs, Fixture.PACKAGE, "UpToDate");

        String top;
        try (Registry r = kind.open(reg)) {
            top = r.latest(PackageName.parse(Fixture.PACKAGE));
            Manifest m = r.readManifest(top);
            assertTrue(!top.equals(base), "push moved latest");
            assertEquals("quiltfs commit ✓", m.message());
            // Rows that did not change keep their metadata.
            assertEquals(canon(io.quiltfs.store.json.Json.parse(Fixture.FILE_META).get(Fixture.NON_ASCII)),
                    canon(m.get(Fixture.NON_ASCII).userMeta()), "user_meta kept across a quiltfs commit");
        }
        Path out = tmp.resolve("quilt3-fetched");
        JsonNode fv = quilt3.fetchVerify(reg, Fixture.PACKAGE, null, out);
        assertEquals(top, fv.get("top_hash").asText(), "quilt3 reads quiltfs's latest and computes its top hash");
        try (Registry r = kind.open(reg)) {
            Agreement.sameManifest(fv.get("view"), r.readManifest(top));
        }
        assertTrue(fv.get("verified").asBoolean(), "quilt3's Package.verify of quiltfs's pushed revision");
        Map<String, Path> expected = new LinkedHashMap<>();
        try (var s = Files.walk(work)) {
            s.filter(Files::isRegularFile).forEach(p -> expected.put(work.relativize(p).toString(), p));
        }
        Agreement.sameFiles(out, expected);
        // The revision quilt3 started from is still readable by quilt3 (nothing was overwritten).
        JsonNode old = quilt3.fetchVerify(reg, Fixture.PACKAGE, base, tmp.resolve("quilt3-base"));
        assertTrue(old.get("verified").asBoolean(), "the base revision still verifies after quiltfs's push");
    }
}
