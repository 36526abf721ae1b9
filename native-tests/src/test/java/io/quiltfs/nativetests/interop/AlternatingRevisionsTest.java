package io.quiltfs.nativetests.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.testing.TestRegistries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The two clients take turns on one package: quiltfs pushes, quilt3 publishes a revision on top,
 * quiltfs sees Behind, pulls, sees UpToDate; then quiltfs pushes on top of quilt3's revision and
 * quilt3 builds on that.
 */
class AlternatingRevisionsTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void quiltfsAndQuilt3TakeTurns(TestRegistries.Kind kind) throws Exception {
        PackageName pkg = PackageName.parse(Fixture.PACKAGE);
        Path src = tmp.resolve("src");
        Fixture.write(src, false);
        String reg = kind.newRegistry(tmp);
        Quiltfs quiltfs = new Quiltfs(tmp.resolve("home"), kind);
        Quilt3 quilt3 = new Quilt3(tmp, kind);

        // 1. quiltfs publishes the first revision and works on it.
        String r1 = quiltfs.json("build", Fixture.PACKAGE, src.toString(), "--registry", reg, "-m", "r1 quiltfs")
                .get("top_hash").asText();
        Path work = tmp.resolve("work");
        quiltfs.run("install", Fixture.PACKAGE, "--registry", reg, "--dest", work.toString());
        Files.writeString(work.resolve("README.md"), "# interop\nedited by quiltfs\n");
        quiltfs.run("commit", Fixture.PACKAGE, "-m", "r2 quiltfs");
        quiltfs.run("push", Fixture.PACKAGE);
        String r2 = latest(kind, reg, pkg);
        assertNotEquals(r1, r2);
        Workflow.assertState(quiltfs, Fixture.PACKAGE, "UpToDate");

        // 2. quilt3 publishes on top of quiltfs's revision (not forced: quilt3 checks its base).
        Path added = tmp.resolve("from-quilt3.txt");
        Files.writeString(added, "added by quilt3 ✓\n");
        JsonNode q = quilt3.pushOnTop(reg, Fixture.PACKAGE, Map.of("quilt3/added ✓.txt", added),
                List.of("a.txt"), "r3 quilt3");
        assertEquals(r2, q.get("base").asText(), "quilt3 started from quiltfs's latest");
        String r3 = q.get("top_hash").asText();
        assertEquals(r3, latest(kind, reg, pkg));

        // 3. quiltfs sees it as Behind, pulls, and is UpToDate with quilt3's content.
        Workflow.assertState(quiltfs, Fixture.PACKAGE, "Behind");
        quiltfs.run("pull", Fixture.PACKAGE);
        Workflow.assertState(quiltfs, Fixture.PACKAGE, "UpToDate");
        assertEquals("added by quilt3 ✓\n", Files.readString(work.resolve("quilt3/added ✓.txt")));
        assertTrue(Files.notExists(work.resolve("a.txt")), "the key quilt3 deleted is gone after pull");
        assertEquals("# interop\nedited by quiltfs\n", Files.readString(work.resolve("README.md")));

        // 4. The other way round: quiltfs pushes on top of quilt3's revision...
        Files.writeString(work.resolve("quilt3/added ✓.txt"), "changed by quiltfs\n");
        quiltfs.run("commit", Fixture.PACKAGE, "-m", "r4 quiltfs");
        Workflow.assertState(quiltfs, Fixture.PACKAGE, "Ahead");
        quiltfs.run("push", Fixture.PACKAGE);
        String r4 = latest(kind, reg, pkg);
        assertNotEquals(r3, r4);
        JsonNode fv = quilt3.fetchVerify(reg, Fixture.PACKAGE, null, tmp.resolve("q3-r4"));
        assertEquals(r4, fv.get("top_hash").asText());
        assertTrue(fv.get("verified").asBoolean());
        assertEquals("changed by quiltfs\n", Files.readString(tmp.resolve("q3-r4/quilt3/added ✓.txt")));
        // quiltfs changed a key that quilt3 had pushed: quilt3's revision must still read its own
        // bytes (quilt3 itself would overwrite <ns>/<name>/<key> on an unversioned bucket).
        JsonNode q3r3 = quilt3.fetchVerify(reg, Fixture.PACKAGE, r3, tmp.resolve("q3-r3"));
        assertTrue(q3r3.get("verified").asBoolean(), "quilt3's revision still verifies after quiltfs's push");
        assertEquals("added by quilt3 ✓\n", Files.readString(tmp.resolve("q3-r3/quilt3/added ✓.txt")));

        // ...and quilt3 builds on that; quiltfs is Behind again, pulls, UpToDate.
        Path second = tmp.resolve("second.txt");
        Files.writeString(second, "second quilt3 file\n");
        JsonNode q5 = quilt3.pushOnTop(reg, Fixture.PACKAGE, Map.of("quilt3/second.txt", second), List.of(),
                "r5 quilt3");
        assertEquals(r4, q5.get("base").asText());
        Workflow.assertState(quiltfs, Fixture.PACKAGE, "Behind");
        quiltfs.run("pull", Fixture.PACKAGE);
        Workflow.assertState(quiltfs, Fixture.PACKAGE, "UpToDate");
        assertEquals("second quilt3 file\n", Files.readString(work.resolve("quilt3/second.txt")));

        // Every revision either client wrote is still there and quilt3 still verifies the first.
        // (Not every timestamp pointer: both clients name them by the second, so two pushes
        // within one second share one.)
        String r5 = q5.get("top_hash").asText();
        try (Registry r = kind.open(reg)) {
            for (String h : List.of(r1, r2, r3, r4, r5)) {
                assertTrue(r.hasManifest(h), "revision " + h);
            }
            assertEquals(r5, r.latest(pkg));
        }
        assertTrue(quilt3.fetchVerify(reg, Fixture.PACKAGE, r1, tmp.resolve("q3-r1")).get("verified").asBoolean(),
                "the first revision still verifies");
    }

    private static String latest(TestRegistries.Kind kind, String reg, PackageName pkg) throws Exception {
        try (Registry r = kind.open(reg)) {
            return r.latest(pkg);
        }
    }
}
