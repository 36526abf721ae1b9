package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.testing.S3ProxyServer;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A registry with a quilt3 workflow config, through the command line: build, commit and push
 * stamp the header and refuse what the config refuses (one line, nothing published).
 */
class WorkflowConfigCliTest {
    @TempDir
    Path tmp;

    /** Writes an object of the registry by key, behind quiltfs's back (as an admin would). */
    private static void put(String uri, String key, String text) throws IOException {
        Path f;
        if (uri.startsWith("s3://")) {
            f = S3ProxyServer.shared().objectFile(uri.substring(5), key);
        } else {
            f = PhysicalKey.parse(uri).filePath().resolve(key);
        }
        Files.createDirectories(f.getParent());
        Files.writeString(f, text);
    }

    private static String schemaUrl(String uri, String key) {
        return uri.startsWith("s3://") ? uri + "/" + key : uri + "/" + key;
    }

    private static void config(String uri, String metaSchema) throws IOException {
        put(uri, ".quilt/workflows/meta.json", metaSchema);
        put(uri, ".quilt/workflows/config.yml", "version: \"1\"\n"
                + "default_workflow: alpha\n"
                + "workflows:\n"
                + "  alpha:\n"
                + "    name: Alpha\n"
                + "    handle_pattern: ^team/\n"
                + "    metadata_schema: meta\n"
                + "schemas:\n"
                + "  meta:\n"
                + "    url: " + schemaUrl(uri, ".quilt/workflows/meta.json") + "\n");
    }

    private static JsonNode header(TestRegistries.Kind kind, String uri, String topHash) throws IOException {
        try (Registry r = kind.open(uri)) {
            return r.readManifest(topHash).header();
        }
    }

    private static String latest(TestRegistries.Kind kind, String uri, String pkg) throws IOException {
        try (Registry r = kind.open(uri)) {
            return r.latest(PackageName.parse(pkg));
        }
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void buildCommitAndPushHonourTheConfig(TestRegistries.Kind kind) throws IOException {
        String uri = kind.newRegistry(tmp);
        config(uri, "{\"type\": \"object\", \"required\": [\"author\"]}");
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.csv"), "a\n");
        String home = tmp.resolve("home").toString();

        var bad = CliRunner.run("--home", home, "build", "team/p", src.toString(), "-r", uri, "-m", "m", "--meta", "{}");
        assertEquals(ExitCodes.CONFLICT, bad.code(), bad.err());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
        assertTrue(bad.err().contains(uri + ": workflow 'alpha' for team/p: metadata failed validation:")
                && bad.err().contains("author"), bad.err());
        assertNull(latest(kind, uri, "team/p"), "nothing published");
        var noMeta = CliRunner.run("--home", home, "build", "team/p", src.toString(), "-r", uri, "-m", "m");
        assertEquals(ExitCodes.CONFLICT, noMeta.code(), noMeta.err());
        assertTrue(noMeta.err().strip().endsWith("(the package has no metadata: give it with --meta JSON)"),
                noMeta.err());
        var name = CliRunner.run("--home", home, "build", "other/p", src.toString(), "-r", uri, "--meta", "{\"author\": 1}");
        assertTrue(name.code() == ExitCodes.CONFLICT && name.err().contains("handle_pattern"), name.err());
        var none = CliRunner.run("--home", home, "build", "team/p", src.toString(), "-r", uri, "--workflow", "");
        assertTrue(none.code() == ExitCodes.CONFLICT && none.err().contains("requires a workflow"), none.err());
        var unknown = CliRunner.run("--home", home, "build", "team/p", src.toString(), "-r", uri, "--workflow", "beta");
        assertTrue(unknown.code() == ExitCodes.CONFLICT && unknown.err().contains("no workflow 'beta'"), unknown.err());

        var ok = CliRunner.run("--home", home, "build", "team/p", src.toString(), "-r", uri, "-m", "m",
                "--meta", "{\"author\": \"ann\"}");
        assertEquals(0, ok.code(), ok.err());
        String top = ok.out().strip();
        JsonNode w = header(kind, uri, top).get("workflow");
        assertEquals("alpha", w.get("id").asText());
        assertEquals(uri + "/.quilt/workflows/config.yml", w.get("config").asText());
        assertEquals(uri + "/.quilt/workflows/meta.json", w.get("schemas").get("meta").asText());

        // commit: refused with bad metadata (no revision made), stamped with good metadata.
        Path work = tmp.resolve("work");
        var inst = CliRunner.run("--home", home, "install", "team/p", "-r", uri, "--dest", work.toString());
        assertEquals(0, inst.code(), inst.err());
        Files.writeString(work.resolve("b.csv"), "b\n");
        var refused = CliRunner.run("--home", home, "commit", "team/p", "-m", "two", "--meta", "{\"who\": 1}");
        assertEquals(ExitCodes.CONFLICT, refused.code(), refused.err());
        assertTrue(refused.err().contains("metadata failed validation"), refused.err());
        var st = CliRunner.run("--home", home, "--json", "status", "team/p");
        assertTrue(st.out().contains(top), "the head is unchanged: " + st.out());
        var commit = CliRunner.run("--home", home, "commit", "team/p", "-m", "two", "--meta", "{\"author\": \"bo\"}");
        assertEquals(0, commit.code(), commit.err());
        String second = commit.out().lines().findFirst().orElseThrow().strip();

        // The config changes before the push: the revision no longer passes; nothing is pushed.
        config(uri, "{\"type\": \"object\", \"required\": [\"author\", \"date\"]}");
        var push = CliRunner.run("--home", home, "push", "team/p");
        assertEquals(ExitCodes.CONFLICT, push.code(), push.err());
        assertEquals(1, push.err().strip().lines().count(), push.err());
        assertTrue(push.err().contains("no longer passes") && push.err().contains("date"), push.err());
        assertEquals(top, latest(kind, uri, "team/p"));
        // Commit again under the config as it is now (nothing else changed), then push.
        var again = CliRunner.run("--home", home, "commit", "team/p", "-m", "two",
                "--meta", "{\"author\": \"bo\", \"date\": \"today\"}");
        assertEquals(0, again.code(), again.err());
        String third = again.out().lines().findFirst().orElseThrow().strip();
        assertFalse(third.equals(second));
        var pushed = CliRunner.run("--home", home, "push", "team/p");
        assertEquals(0, pushed.code(), pushed.err());
        assertEquals(third, latest(kind, uri, "team/p"));
        assertEquals("alpha", header(kind, uri, third).get("workflow").get("id").asText());
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aConfigThatChangedOnlyInItsStampIsRestampedByCommit(TestRegistries.Kind kind) throws IOException {
        String uri = kind.newRegistry(tmp);
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.csv"), "a\n");
        String home = tmp.resolve("home").toString();
        var ok = CliRunner.run("--home", home, "build", "team/p", src.toString(), "-r", uri, "-m", "m");
        assertEquals(0, ok.code(), ok.err());
        assertFalse(header(kind, uri, ok.out().strip()).has("workflow"), "no config: no workflow");
        Path work = tmp.resolve("work");
        assertEquals(0, CliRunner.run("--home", home, "install", "team/p", "-r", uri, "--dest", work.toString()).code());
        // A config appears: the head (no workflow) is not what quilt3 would publish now.
        put(uri, ".quilt/workflows/config.yml", "version: \"1.1\"\nis_workflow_required: false\n"
                + "workflows:\n  free:\n    name: Free\n");
        // Nothing changed in the folder, but the stamp did: commit makes the revision.
        var commit = CliRunner.run("--home", home, "commit", "team/p", "-m", "m", "--workflow", "");
        assertEquals(0, commit.code(), commit.err());
        String top = commit.out().lines().findFirst().orElseThrow().strip();
        var nothing = CliRunner.run("--home", home, "commit", "team/p", "-m", "m", "--workflow", "");
        assertTrue(nothing.out().contains("nothing to commit"), nothing.out());
        assertEquals(0, CliRunner.run("--home", home, "push", "team/p").code());
        JsonNode w = header(kind, uri, top).get("workflow");
        assertTrue(w.get("id").isNull());
        assertEquals(uri + "/.quilt/workflows/config.yml", w.get("config").asText());
        assertFalse(w.has("schemas"));
    }
    /**
     * A commit is local work: with the registry out of reach (a local registry's disk not mounted)
     * it keeps the head's workflow stamp and says so, instead of failing or dropping the stamp.
     */
    @org.junit.jupiter.api.Test
    void aCommitWithTheRegistryOutOfReachKeepsTheHeadsStamp() throws IOException {
        String uri = TestRegistries.LOCAL.newRegistry(tmp);
        put(uri, ".quilt/workflows/config.yml", "version: \"1\"\nis_workflow_required: false\n"
                + "workflows:\n  free:\n    name: Free\n");
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.csv"), "a\n");
        String home = tmp.resolve("home").toString();
        var built = CliRunner.run("--home", home, "build", "team/p", src.toString(), "-r", uri, "--workflow", "free");
        assertEquals(0, built.code(), built.err());
        Path work = tmp.resolve("work");
        assertEquals(0, CliRunner.run("--home", home, "install", "team/p", "-r", uri, "--dest", work.toString()).code());
        Files.writeString(work.resolve("a.csv"), "b\n");
        Path reg = PhysicalKey.parse(uri).filePath();
        Path away = Files.move(reg, tmp.resolve("unmounted"));
        var offline = CliRunner.run("--home", home, "commit", "team/p", "-m", "offline");
        assertEquals(0, offline.code(), offline.err());
        assertTrue(offline.err().contains("warning:") && offline.err().contains("workflow stamp as it is"), offline.err());
        String top = offline.out().lines().findFirst().orElseThrow().strip();
        Files.move(away, reg);
        assertEquals(0, CliRunner.run("--home", home, "push", "team/p").code(), "the stamp passes at push");
        JsonNode w = header(TestRegistries.LOCAL, uri, top).get("workflow");
        assertEquals("free", w.get("id").asText());
    }

    @org.junit.jupiter.api.Test
    void aSchemaWithABadPatternIsOneLineExit1AndTheSchemaLibraryStaysQuiet() throws IOException {
        String uri = TestRegistries.LOCAL.newRegistry(tmp);
        // '\\p{L}' is a Java regex but not a Python one: quilt3 refuses the schema.
        config(uri, "{\"type\": \"object\", \"properties\": {\"author\": {\"pattern\": \"\\\\p{L}\"}}}");
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.csv"), "a\n");
        var r = CliRunner.run("--home", tmp.resolve("home").toString(), "build", "team/p", src.toString(), "-r", uri,
                "-m", "m", "--meta", "{\"author\": \"ann\"}");
        assertEquals(ExitCodes.FAILURE, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("schema 'meta' is not a valid JSON Schema") && r.err().contains("bad escape \\p"),
                r.err());
        assertNull(latest(TestRegistries.LOCAL, uri, "team/p"));
        // What the JSON Schema library logs itself never reaches the user's stderr.
        assertFalse(org.slf4j.LoggerFactory.getLogger("com.networknt.schema.PatternValidator").isErrorEnabled());
    }

    /**
     * A schema may live in another bucket than the registry (quilt3 reads any s3:// URL), for a
     * local registry too; one that cannot be fetched is one line naming its URL, exit 1.
     */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aSchemaInAnotherBucketIsReadAndOneThatCannotBeFetchedIsNamed(TestRegistries.Kind kind) throws IOException {
        String uri = kind.newRegistry(tmp);
        String other = "s3://" + S3ProxyServer.shared().newBucket();
        put(other, "schemas/meta.json", "{\"type\": \"object\", \"required\": [\"author\"]}");
        String config = "version: \"1\"\ndefault_workflow: alpha\nworkflows:\n  alpha:\n    name: Alpha\n"
                + "    metadata_schema: meta\nschemas:\n  meta:\n    url: " + other + "/schemas/meta.json\n";
        put(uri, ".quilt/workflows/config.yml", config);
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.csv"), "a\n");
        String home = tmp.resolve("home").toString();
        var refused = CliRunner.run("--home", home, "build", "team/p", src.toString(), "-r", uri, "-m", "m",
                "--meta", "{}");
        assertEquals(ExitCodes.CONFLICT, refused.code(), refused.err());
        assertTrue(refused.err().contains("metadata failed validation") && refused.err().contains("author"),
                refused.err());
        var ok = CliRunner.run("--home", home, "build", "team/p", src.toString(), "-r", uri, "-m", "m",
                "--meta", "{\"author\": \"ann\"}");
        assertEquals(0, ok.code(), ok.err());
        assertEquals(other + "/schemas/meta.json",
                header(kind, uri, ok.out().strip()).get("workflow").get("schemas").get("meta").asText());

        String gone = "s3://" + S3ProxyServer.shared().newBucket() + "-gone/meta.json";
        put(uri, ".quilt/workflows/config.yml", config.replace(other + "/schemas/meta.json", gone));
        var unfetchable = CliRunner.run("--home", home, "build", "team/q", src.toString(), "-r", uri, "-m", "m",
                "--meta", "{\"author\": \"ann\"}");
        assertEquals(ExitCodes.FAILURE, unfetchable.code(), unfetchable.err());
        assertEquals(1, unfetchable.err().strip().lines().count(), unfetchable.err());
        assertTrue(unfetchable.err().contains("could not load schema 'meta' at " + gone), unfetchable.err());
        assertNull(latest(kind, uri, "team/q"), "nothing published");
    }
}
