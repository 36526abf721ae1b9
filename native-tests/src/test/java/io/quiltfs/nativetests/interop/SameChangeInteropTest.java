package io.quiltfs.nativetests.interop;

import static io.quiltfs.nativetests.interop.Agreement.canon;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.testing.TestRegistries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same change made by either client gives the same revision. quilt3 publishes a package
 * without package metadata (its header then holds {@code "user_meta": null}) whose rows carry
 * metadata with floats, big integers and keys that sort differently by code point and by UTF-16
 * unit; quiltfs installs it, changes a file, deletes one, adds one and pushes; quilt3 makes the
 * same change on the same revision: both top hashes are equal, and every row quiltfs did not
 * touch keeps its metadata and physical key.
 */
class SameChangeInteropTest {
    static final String PACKAGE = "interop/same-change";
    /** Only on rows the change leaves alone: quilt3's set() of a new file drops a row's metadata. */
    static final String FILE_META = "{\"keep/meta.json\": {\"\\ue000\": 1, \"\\ud83d\\ude00\": 2, \"f\": [1e16, 3.0, -0.0, "
            + "5e-324, 0.1, 1e-07], \"n\": 18446744073709551617, \"s\": \"ctl\\u0001 \\u2028 tab\\t\"}, "
            + "\"Keep/Meta.json\": {\"case\": \"differs only in case\"}}";

    @TempDir
    Path tmp;

    @Test
    void bothClientsMakeTheSameRevisionFromTheSameChange() throws Exception {
        TestRegistries.Kind kind = TestRegistries.LOCAL;
        Path src = tmp.resolve("src");
        write(src.resolve("keep/meta.json"), "{\"a\": 1}\n");
        write(src.resolve("Keep/Meta.json"), "{\"A\": 1}\n");
        write(src.resolve("caf\u00e9.txt"), "NFC\n");
        write(src.resolve("cafe\u0301.txt"), "NFD\n");
        write(src.resolve("odd/100% #1 ?x=y+z.txt"), "odd\n");
        write(src.resolve("change/me.csv"), "id\n1\n");
        write(src.resolve("delete/me.txt"), "bye\n");
        Files.write(src.resolve("empty"), new byte[0]);
        Quilt3 quilt3 = new Quilt3(tmp, kind);
        String reg = kind.newRegistry(tmp);
        String reg2 = kind.newRegistry(tmp);
        Quilt3.Build options = new Quilt3.Build().message("base\nwith a second line").fileMeta(FILE_META);
        String base = quilt3.build(reg, PACKAGE, src, options);
        assertEquals(base, quilt3.build(reg2, PACKAGE, src, options), "the same base in a second registry");

        // quiltfs: install, change, commit, push.
        Quiltfs quiltfs = new Quiltfs(tmp.resolve("home"), kind);
        Path work = tmp.resolve("work");
        quiltfs.run("install", PACKAGE, "--registry", reg, "--dest", work.toString());
        Path changed = write(work.resolve("change/me.csv"), "id\n1\n2\n");
        Files.delete(work.resolve("delete/me.txt"));
        Path added = write(work.resolve("added/\u65e5\u672c 😀.txt"), "new\n");
        String message = "the change\nmade twice";
        quiltfs.run("commit", PACKAGE, "-m", message);
        quiltfs.run("push", PACKAGE);
        Workflow.assertState(quiltfs, PACKAGE, "UpToDate");

        // quilt3: the same change on the same base, in the second registry.
        JsonNode q = quilt3.pushOnTop(reg2, PACKAGE, Map.of("change/me.csv", changed, "added/\u65e5\u672c 😀.txt", added),
                List.of("delete/me.txt"), message);
        assertEquals(base, q.get("base").asText());
        try (Registry r = kind.open(reg)) {
            PackageName pkg = PackageName.parse(PACKAGE);
            String mine = r.latest(pkg);
            assertEquals(q.get("top_hash").asText(), mine, "quiltfs's push vs quilt3's revision of the same change");
            Manifest before = r.readManifest(base);
            Manifest after = r.readManifest(mine);
            assertTrue(after.header().get("user_meta").isNull(), "the header keeps \"user_meta\": null");
            for (Entry e : before.entries()) {
                String k = e.logicalKey();
                if (k.equals("change/me.csv") || k.equals("delete/me.txt")) {
                    continue;
                }
                Entry a = after.get(k);
                assertEquals(e.physicalKey(), a.physicalKey(), "physical key of untouched " + k);
                assertEquals(canon(e.meta()), canon(a.meta()), "meta of untouched " + k);
                assertEquals(e.hash(), a.hash(), "checksum of untouched " + k);
            }
            Agreement.sameManifest(quilt3.browse(reg, PACKAGE, null), after);
        }
        JsonNode fv = quilt3.fetchVerify(reg, PACKAGE, null, tmp.resolve("out"));
        assertTrue(fv.get("verified").asBoolean(), "quilt3's Package.verify of quiltfs's push");
    }

    private static Path write(Path p, String text) throws java.io.IOException {
        Files.createDirectories(p.getParent());
        return Files.writeString(p, text);
    }
}
