package io.quiltfs.store.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.policy.WorkflowChoice;
import io.quiltfs.store.policy.WorkflowException;
import io.quiltfs.store.policy.Workflows;
import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.state.Home;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The workflow check runs in quilt3's order: message, name and metadata (and, for build, the
 * entries) before anything is hashed; a commit with nothing changed compares stamps only.
 */
class WorkflowOrderTest {
    static final PackageName PKG = PackageName.parse("team/data");

    @TempDir
    Path tmp;

    LocalRegistry registry;
    Path entriesSchema;

    /** Every phase a Progress was told about. */
    static final class Phases implements Progress {
        final List<String> begun = new ArrayList<>();

        @Override
        public void begin(String phase, long files, long bytes) {
            begun.add(phase);
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        registry = new LocalRegistry(Files.createDirectories(tmp.resolve("reg")));
        Path wf = Files.createDirectories(registry.root().resolve(".quilt/workflows"));
        Files.writeString(wf.resolve("meta.json"), "{\"type\": \"object\", \"required\": [\"author\"]}");
        entriesSchema = wf.resolve("entries.json");
        Files.writeString(entriesSchema, "{\"type\": \"array\", \"items\": {\"properties\": {\"size\": {\"maximum\": 100}}}}");
        Files.writeString(wf.resolve("config.yml"), "version: \"1\"\ndefault_workflow: alpha\nworkflows:\n"
                + "  alpha:\n    name: Alpha\n    metadata_schema: meta\n    entries_schema: entries\n"
                + "schemas:\n"
                + "  meta:\n    url: " + PhysicalKey.ofFile(wf.resolve("meta.json")) + "\n"
                + "  entries:\n    url: " + PhysicalKey.ofFile(entriesSchema) + "\n");
    }

    private io.quiltfs.store.workflow.Publisher.Result build(Path src, String meta, Progress progress) throws IOException {
        return Build.build(registry, PKG, src, "m", meta == null ? null : Json.parse(meta), HashType.SHA2_256_CHUNKED,
                WorkflowChoice.DEFAULT, Registries.sources(registry, null), Clock.systemUTC(), progress);
    }

    @Test
    void buildRefusesBadMetadataOrEntriesBeforeHashing() throws IOException {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.csv"), "a\n");
        Phases p = new Phases();
        assertTrue(assertThrows(WorkflowException.class, () -> build(src, "{}", p)).getMessage()
                .contains("metadata failed validation"));
        Files.writeString(src.resolve("big.csv"), "x".repeat(101));
        assertTrue(assertThrows(WorkflowException.class, () -> build(src, "{\"author\": \"a\"}", p)).getMessage()
                .contains("'big.csv'"));
        assertEquals(List.of(), p.begun, "nothing was hashed");
        Files.delete(src.resolve("big.csv"));
        assertNotNull(build(src, "{\"author\": \"a\"}", p));
        assertEquals("hashing", p.begun.get(0));
    }

    @Test
    void commitRefusesBadMetadataBeforeHashingAndANoChangeCommitComparesStampsOnly() throws IOException {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.csv"), "a\n");
        build(src, "{\"author\": \"a\"}", Progress.NONE);
        Home home = new Home(tmp.resolve("home"));
        Install.install(home, registry, PackageRef.latest(PKG), null, null, Registries.sources(registry, null),
                Progress.NONE);
        InstalledPackage installed = InstalledPackage.require(home, PKG);
        Files.writeString(home.defaultWorkDir(PKG).resolve("b.csv"), "b\n");
        Commit.WorkflowStamp stamp = (meta, head) -> Workflows.check(registry, Registries.sources(registry, null),
                WorkflowChoice.DEFAULT, PKG, "m", meta);
        Phases p = new Phases();
        assertTrue(assertThrows(WorkflowException.class, () -> Commit.commit(installed, "m", Json.parse("{}"),
                HashType.SHA2_256_CHUNKED, stamp, p)).getMessage().contains("metadata failed validation"));
        assertEquals(List.of(), p.begun, "nothing was hashed");
        Commit.Result r = Commit.commit(installed, "m", null, HashType.SHA2_256_CHUNKED, stamp, p);
        assertTrue(r.committed());
        assertEquals(List.of("committing"), p.begun);

        // The entries schema (same URL, so the same stamp) now refuses every row: a commit with
        // nothing changed does not validate the rows again (push does).
        Files.writeString(entriesSchema, "{\"type\": \"array\", \"items\": {\"properties\": {\"size\": {\"maximum\": 0}}}}");
        Commit.Result again = Commit.commit(InstalledPackage.require(home, PKG), "m", null, HashType.SHA2_256_CHUNKED,
                stamp, Progress.NONE);
        assertFalse(again.committed());
        assertEquals(r.topHash(), again.topHash());
        String refused = Workflows.recheck(registry, Registries.sources(registry, null), PKG, again.manifest());
        assertTrue(refused != null && refused.contains("package entries failed validation"), refused);
        // A change is checked in full.
        Files.writeString(home.defaultWorkDir(PKG).resolve("c.csv"), "c\n");
        assertTrue(assertThrows(WorkflowException.class, () -> Commit.commit(InstalledPackage.require(home, PKG), "m",
                null, HashType.SHA2_256_CHUNKED, stamp, Progress.NONE)).getMessage()
                .contains("package entries failed validation"));
        JsonNode head = InstalledPackage.require(home, PKG).head().header().get("workflow");
        assertEquals("alpha", head.get("id").asText());
    }

    @Test
    void commitRefusesEntriesTheSchemaRefusesBeforeHashing() throws IOException {
        // rows may be at most 100 bytes, and a.csv must stay in the package
        Files.writeString(entriesSchema, "{\"type\": \"array\", \"items\": {\"properties\": {\"size\": {\"maximum\": 100}}},"
                + " \"contains\": {\"properties\": {\"logical_key\": {\"const\": \"a.csv\"}}}}");
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.csv"), "a\n");
        build(src, "{\"author\": \"a\"}", Progress.NONE);
        Home home = new Home(tmp.resolve("home"));
        Install.install(home, registry, PackageRef.latest(PKG), null, null, Registries.sources(registry, null),
                Progress.NONE);
        Path work = home.defaultWorkDir(PKG);
        Commit.WorkflowStamp stamp = (meta, head) -> Workflows.check(registry, Registries.sources(registry, null),
                WorkflowChoice.DEFAULT, PKG, "m", meta);
        Phases p = new Phases();

        Files.writeString(work.resolve("big.csv"), "x".repeat(101));
        Files.writeString(work.resolve("small.csv"), "s\n");
        assertTrue(assertThrows(WorkflowException.class, () -> Commit.commit(InstalledPackage.require(home, PKG), "m",
                null, HashType.SHA2_256_CHUNKED, stamp, p)).getMessage().contains("'big.csv'"));
        Files.delete(work.resolve("big.csv"));
        Files.delete(work.resolve("a.csv"));
        assertTrue(assertThrows(WorkflowException.class, () -> Commit.commit(InstalledPackage.require(home, PKG), "m",
                null, HashType.SHA2_256_CHUNKED, stamp, p)).getMessage().contains("package entries failed validation"));
        assertEquals(List.of(), p.begun, "nothing was hashed");

        Files.writeString(work.resolve("a.csv"), "A\n"); // back, same size, new content
        Commit.Result r = Commit.commit(InstalledPackage.require(home, PKG), "m", null, HashType.SHA2_256_CHUNKED,
                stamp, p);
        assertTrue(r.committed());
        assertEquals(List.of("committing"), p.begun);
        assertEquals(List.of("a.csv", "small.csv"), r.manifest().entries().stream().map(e -> e.logicalKey()).toList());
    }
}
