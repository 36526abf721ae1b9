package io.quiltfs.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.manifest.ManifestWriter;
import io.quiltfs.store.policy.WorkflowChoice;
import io.quiltfs.store.policy.WorkflowException;
import io.quiltfs.store.policy.Workflows;
import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.state.PackageState;
import io.quiltfs.store.workflow.Build;
import io.quiltfs.store.workflow.Commit;
import io.quiltfs.store.workflow.InstalledPackage;
import io.quiltfs.store.workflow.Progress;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A commit from a mount's working area checked by the registry's entries schema before hashing:
 * the rows it checks carry the metadata the commit writes (a renamed file keeps its row's).
 */
class MountCommitWorkflowTest {
    @TempDir
    Path tmp;

    final PackageName pkg = PackageName.parse("team/p");
    LocalRegistry registry;
    Manifest manifest;
    Home home;
    PackageFs fs;

    @BeforeEach
    void setUp() throws IOException {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.csv"), "a,b\n");
        Files.write(src.resolve("big.bin"), new byte[4096]); // beyond a 1 KiB cache limit on its own
        registry = new LocalRegistry(tmp.resolve("registry"));
        Manifest built = registry.readManifest(Build.build(registry, pkg, src, "m1", null,
                HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE).topHash());
        // a.csv carries {"src": "x"}, which every row must (the entries schema below)
        Manifest.Builder b = built.toBuilder().clearEntries();
        for (Entry e : built.entries()) {
            b.add(new Entry(e.logicalKey(), e.physicalKey(), e.size(), e.hash(),
                    Json.parse("{\"user_meta\": {\"src\": \"x\"}}"), e.extras()));
        }
        manifest = b.build();
        registry.writeManifestBytes(manifest.topHash(), ManifestWriter.toBytes(manifest));
        registry.writePointer(pkg, "latest", manifest.topHash());
        Path wf = Files.createDirectories(registry.root().resolve(".quilt/workflows"));
        Files.writeString(wf.resolve("entries.json"),
                "{\"items\": {\"properties\": {\"meta\": {\"required\": [\"src\"]}}}}");
        Files.writeString(wf.resolve("config.yml"), "version: \"1\"\nis_workflow_required: false\n"
                + "default_workflow: w\nworkflows:\n  w:\n    name: W\n    entries_schema: e\n"
                + "schemas:\n  e:\n    url: " + PhysicalKey.ofFile(wf.resolve("entries.json")) + "\n");
        home = new Home(tmp.resolve("home"));
        home.ensure();
        InstalledPackage.manifest(home, pkg, registry.uri(), manifest.topHash(), registry); // cached, as a mount does
        // the lineage entry an editable mount makes: the package's working folder is its area
        Lineage.update(home, l -> {
            PackageState s = new PackageState();
            s.registry = registry.uri();
            s.base = manifest.topHash();
            s.head = manifest.topHash();
            s.workDir = home.mountArea(pkg).toString();
            l.put(pkg, s);
            return null;
        });
        ObjectStore store = new ObjectStore(new ObjectCache(home), CacheBudget.open(home, 1L << 30), k -> registry, 5_000);
        fs = new PackageFs(manifest, pkg, manifest.topHash(), 1_700_000_000L, store,
                WorkArea.open(home.mountArea(pkg), top -> manifest));
    }

    @AfterEach
    void tearDown() {
        InstalledPackage.detach(home.mountArea(pkg));
        fs.close();
    }

    private Commit.Result commit() throws IOException {
        // what the mount's control does for `quiltfs commit`: the snapshot is the working files
        PackageFs.Snapshot snap = fs.snapshot();
        InstalledPackage.attach(home.mountArea(pkg), snap.files());
        Commit.WorkflowStamp stamp = (meta, head) -> Workflows.check(registry, Registries.sources(registry, null),
                WorkflowChoice.DEFAULT, pkg, "m2", meta);
        Commit.Result r = Commit.commit(InstalledPackage.require(home, pkg), "m2", null, HashType.SHA2_256_CHUNKED,
                stamp, Progress.NONE);
        if (r.committed()) {
            fs.rebase(r.manifest(), r.topHash(), snap);
        }
        return r;
    }

    /**
     * With a cache limit below a row's size, the row's object is deleted whenever nobody has it
     * open: a verb reading a moved or unchanged row through the working files (to hash it another
     * way, to copy it) keeps it pinned while it reads, so the trimmer cannot delete it in between.
     */
    @Test
    void aRowsObjectStaysCachedWhileAVerbReadsIt() throws IOException {
        fs.close();
        CacheBudget tiny = CacheBudget.open(home, 1); // 1 KiB
        fs = new PackageFs(manifest, pkg, manifest.topHash(), 1_700_000_000L,
                new ObjectStore(new ObjectCache(home), tiny, k -> registry, 5_000),
                WorkArea.open(home.mountArea(pkg), top -> manifest));
        fs.rename("/big.bin", "/moved.bin");
        io.quiltfs.store.workflow.WorkingFiles files = fs.snapshot().files();
        Path object = home.object(manifest.get("big.bin").hash());
        for (String k : new String[] {"moved.bin", "big.bin"}) {
            if (k.equals("big.bin")) {
                fs.rename("/moved.bin", "/big.bin"); // now an unchanged row
                files = fs.snapshot().files();
            }
            byte[] read = files.read(k, p -> {
                tiny.settle(); // the trimmer has taken every use so far, and trimmed
                return Files.readAllBytes(p);
            });
            assertEquals(4096, read.length, k);
        }
        tiny.settle();
        assertFalse(Files.exists(object), "deleted once nobody reads it (the limit holds)");
    }

    @Test
    void aRenamedFileKeepsItsRowsMetadataForTheEntriesCheck() throws IOException {
        fs.rename("/a.csv", "/b.csv");
        Commit.Result r = commit();
        assertTrue(r.committed());
        assertEquals("x", r.manifest().get("b.csv").userMeta().get("src").asText());

        // a new file has no metadata: refused, named
        long h = fs.create("/c.csv", 0644);
        fs.write(h, 0, ByteBuffer.wrap("c\n".getBytes(StandardCharsets.UTF_8)));
        fs.release(h);
        String refused = assertThrows(WorkflowException.class, this::commit).getMessage();
        assertTrue(refused.contains("'c.csv' at /meta: required property 'src' not found"), refused);
    }
}
