package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.workflow.InstalledPackage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `install` and `uninstall` of a package edited through a mount (its lineage entry names the
 * mount's working area, as an editable mount leaves it after `unmount`): the area is not a working
 * folder, and its journal, not a walk of the folder, says what changed.
 */
class MountAreaVerbsTest {
    @TempDir
    Path tmp;

    private final PackageName name = PackageName.parse("t/p");
    private Home home;
    private String reg;
    private String top;

    @BeforeEach
    void aPackageOnceMountedForEditing() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "a");
        Files.writeString(src.resolve("b.txt"), "b");
        reg = tmp.resolve("reg").toUri().toString();
        var b = WorkflowCommandsTest.run("build", "t/p", src.toString(), "-r", reg, "-m", "first");
        assertEquals(0, b.code(), b.err());
        top = b.out().strip();
        home = new Home(tmp.resolve("home"));
        mountedAndUnmounted();
    }

    /** What an editable mount leaves behind: the lineage entry on its working area. */
    private void mountedAndUnmounted() throws Exception {
        assertNull(MountEditing.claim(home, reg, name, top).readOnlyReason());
        Files.createDirectories(home.mountArea(name).resolve("files"));
        Files.writeString(home.mountArea(name).resolve("lock"), "");
    }

    private WorkflowCommandsTest.Run run(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--home";
        all[1] = home.root().toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return WorkflowCommandsTest.run(all);
    }

    @Test
    void uninstallWithoutChangesForgetsIt() throws Exception {
        var r = run("uninstall", "t/p");
        assertEquals(0, r.code(), r.err());
        assertNull(InstalledPackage.find(home, name));
        assertFalse(Files.exists(home.mountArea(name)));
    }

    @Test
    void uninstallWithUncommittedChangesRefusesUnlessForced() throws Exception {
        Files.writeString(home.mountArea(name).resolve("journal"), "{\"o\":\"d\",\"k\":\"a.txt\"}\n");
        var r = run("uninstall", "t/p");
        assertEquals(ExitCodes.CONFLICT, r.code(), r.err());
        assertTrue(r.err().contains("(removed 'a.txt')") && r.err().contains("--force"), r.err());
        assertTrue(InstalledPackage.find(home, name) != null);
        r = run("uninstall", "t/p", "--force");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("discarded the uncommitted changes: removed 'a.txt'"), r.out());
        assertNull(InstalledPackage.find(home, name));
    }

    @Test
    void commitPassesItsWorkflowThroughTheMountsArea() throws Exception {
        Path config = Path.of(java.net.URI.create(reg)).resolve(".quilt/workflows/config.yml");
        Files.createDirectories(config.getParent());
        Files.writeString(config, "version: \"1\"\nis_workflow_required: false\nworkflows:\n  free:\n    name: F\n");
        var r = run("commit", "t/p", "-m", "stamped", "--workflow", "");
        assertEquals(0, r.code(), r.out() + r.err());
        String head = InstalledPackage.require(home, name).state().head;
        assertFalse(head.equals(top), "the new stamp made a revision");
        var header = InstalledPackage.require(home, name).head().header();
        assertTrue(header.get("workflow").get("id").isNull(), header.toString());
        r = run("commit", "t/p", "-m", "again", "--workflow", "nope");
        assertEquals(ExitCodes.CONFLICT, r.code(), r.out() + r.err()); // a refusal by the registry's rules
        assertTrue(r.err().contains("no workflow 'nope'"), r.err());
    }

    /**
     * Through the mount's control channel, a status over a damaged latest (exit 1) keeps its report
     * on stdout (valid JSON with --json, the pointer in problems) and the warning on stderr; the
     * mount's {@code .quiltfs/status} is the JSON report alone.
     */
    @Test
    void statusOverADamagedLatestKeepsTheReportOnStdout() throws Exception {
        Files.writeString(Path.of(java.net.URI.create(reg)).resolve(".quilt/named_packages/t/p/latest"), "not a hash");
        var r = run("--json", "status", "t/p");
        assertEquals(ExitCodes.FAILURE, r.code(), r.out() + r.err());
        var json = r.json();
        assertEquals("t/p", json.get("package").asText(), r.out());
        assertEquals(1, json.get("problems").size(), r.out());
        assertTrue(r.err().startsWith("quiltfs: warning: ") && r.err().contains("latest"), r.err());
        assertFalse(r.err().contains("{"), "no JSON on stderr: " + r.err());

        var text = run("status", "t/p");
        assertEquals(ExitCodes.FAILURE, text.code(), text.out() + text.err());
        assertTrue(text.out().startsWith("t/p: state unknown"), text.out());
        assertTrue(text.err().startsWith("quiltfs: warning: "), text.err());

        Home h = home;
        var p = InstalledPackage.require(h, name);
        try (var registry = io.quiltfs.store.registry.Registries.open(reg, null);
             io.quiltfs.fs.PackageFs fs = io.quiltfs.fs.PackageMount.openEditable(h, registry, null, name,
                     p.state().head, new io.quiltfs.fs.MountSettings(1 << 20,
                             io.quiltfs.fs.MountSettings.DEFAULT_STALL_MILLIS))) {
            String status = new MountControl(h, null, fs).status();
            var j = io.quiltfs.store.json.Json.parse(status);
            assertEquals(1, j.get("problems").size(), status);
        } finally {
            InstalledPackage.detach(h.mountArea(name));
        }
    }

    @Test
    void installDoesNotTakeTheMountsAreaForAWorkingFolder() throws Exception {
        var r = run("install", "t/p", "-r", reg);
        assertEquals(ExitCodes.CONFLICT, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("through a mount") && r.err().contains("quiltfs uninstall t/p"), r.err());
        assertFalse(Files.exists(home.root().resolve("work")));
    }
}
