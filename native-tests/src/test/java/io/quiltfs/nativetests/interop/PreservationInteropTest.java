package io.quiltfs.nativetests.interop;

import static io.quiltfs.nativetests.interop.Agreement.canon;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.manifest.ManifestReader;
import io.quiltfs.store.manifest.ManifestWriter;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.testing.TestRegistries;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What quiltfs does not interpret it keeps: a package with folder-metadata rows and header keys
 * that quiltfs does not know survives a quiltfs round trip with the same top hash, and quilt3
 * still sees the folder metadata and the header keys afterwards.
 */
class PreservationInteropTest {
    static final String DIR_META = "{\"data/\": {\"about\": \"tables\", \"rows\": 2.5}, "
            + "\"données/\": {\"langue\": \"français ✓\"}, \"data/nested/deep/\": {\"deep\": [true]}}";
    /**
     * Header keys neither client interprets. ({@code workflow} is not among them: quilt3 sets or
     * removes it itself on every build and push, from the registry's workflow configuration.)
     */
    static final String HEADER_EXTRA = "{\"zz_unknown\": {\"k\": [1, 2.5, \"é\", 1e+16]}, \"a_unknown\": null, "
            + "\"Ünicode\": \"😀\"}";

    @TempDir
    Path tmp;

    /** quilt3 publishes the package; returns top_hash and view. */
    private JsonNode publishQuilt3(Quilt3 quilt3, String reg) throws Exception {
        Fixture.write(tmp.resolve("src"), false);
        return quilt3.publish(reg, Fixture.PACKAGE, tmp.resolve("src"), new Quilt3.Build().message("keep me")
                .meta(Fixture.PACKAGE_META).fileMeta(Fixture.FILE_META_SMALL).dirMeta(DIR_META).headerExtra(HEADER_EXTRA));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void folderRowsAndUnknownHeaderKeysSurviveReadAndWriteBack(TestRegistries.Kind kind) throws Exception {
        String reg = kind.newRegistry(tmp);
        Quilt3 quilt3 = new Quilt3(tmp, kind);
        JsonNode published = publishQuilt3(quilt3, reg);
        String top = published.get("top_hash").asText();
        JsonNode view = published.get("view");
        assertEquals(3, view.get("dirs").size(), "quilt3 wrote the folder rows");

        String reg2 = kind.newRegistry(tmp);
        try (Registry r = kind.open(reg); Registry r2 = kind.open(reg2)) {
            Manifest m = r.readManifest(top);
            Agreement.sameManifest(view, m);
            ObjectNode header = m.header();
            Json.parse(HEADER_EXTRA).fields().forEachRemaining(f ->
                    assertEquals(canon(f.getValue()), canon(header.get(f.getKey())), "header key " + f.getKey()));
            ObjectNode dataDir = m.directoryRow("data");
            assertNotNull(dataDir, "the data/ folder row");
            assertEquals(canon(Json.parse(DIR_META).get("data/")), canon(dataDir.get("meta")));

            // Written back by quiltfs: same top hash, and the same again when read once more.
            byte[] written = ManifestWriter.toBytes(m);
            Manifest again = ManifestReader.read(written, "rewritten");
            assertEquals(top, again.topHash());
            assertEquals(top, m.toBuilder().build().topHash(), "a manifest rebuilt from its rows");
            Agreement.sameManifest(view, again);

            // Published by quiltfs into another registry: quilt3 sees the same package.
            PackageName pkg = PackageName.parse(Fixture.PACKAGE);
            assertEquals(top, r2.writeManifest(again));
            r2.writePointer(pkg, Long.toString(System.currentTimeMillis() / 1000), top);
            assertEquals(null, r2.compareAndSetLatest(pkg, null, top));
        }
        JsonNode view2 = quilt3.browse(reg2, Fixture.PACKAGE, null);
        assertEquals(canon(view), canon(view2), "quilt3's view of the package quiltfs wrote back");
        assertTrue(quilt3.fetchVerify(reg2, Fixture.PACKAGE, null, tmp.resolve("out")).get("verified").asBoolean());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void folderRowsAndUnknownHeaderKeysSurviveInstallNoOpCommitAndPush(TestRegistries.Kind kind) throws Exception {
        String reg = kind.newRegistry(tmp);
        Quilt3 quilt3 = new Quilt3(tmp, kind);
        JsonNode published = publishQuilt3(quilt3, reg);
        String top = published.get("top_hash").asText();
        JsonNode view = published.get("view");

        int revisions;
        try (Registry r = kind.open(reg)) {
            revisions = r.revisions(PackageName.parse(Fixture.PACKAGE)).size();
        }
        Quiltfs quiltfs = new Quiltfs(tmp.resolve("home"), kind);
        Path work = tmp.resolve("work");
        quiltfs.run("install", Fixture.PACKAGE, "--registry", reg, "--dest", work.toString());
        Workflow.assertState(quiltfs, Fixture.PACKAGE, "UpToDate");
        quiltfs.run("commit", Fixture.PACKAGE, "-m", "nothing changed");
        Workflow.assertState(quiltfs, Fixture.PACKAGE, "UpToDate");
        quiltfs.run("push", Fixture.PACKAGE);
        Workflow.assertState(quiltfs, Fixture.PACKAGE, "UpToDate");
        try (Registry r = kind.open(reg)) {
            assertEquals(top, r.latest(PackageName.parse(Fixture.PACKAGE)), "latest after a no-op commit and push");
            assertEquals(revisions, r.revisions(PackageName.parse(Fixture.PACKAGE)).size(), "no new revision");
        }
        assertEquals(canon(view), canon(quilt3.browse(reg, Fixture.PACKAGE, null)));
    }
}
