package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A home whose state files were damaged by hand (a folder or a file where the other belongs):
 * one line naming the place and what to do, a non-zero exit, the working files untouched; a
 * derived cache that cannot be written never fails a command that did its work.
 */
class DamagedStateTest {
    static final PackageName PKG = PackageName.parse("t/p");

    @TempDir
    Path tmp;

    Home home;
    Path work;

    @BeforeEach
    void installed() throws IOException {
        String reg = TestRegistries.LOCAL.newRegistry(tmp);
        Path src = tmp.resolve("src");
        Files.createDirectories(src.resolve("d"));
        Files.writeString(src.resolve("a.txt"), "alpha");
        Files.writeString(src.resolve("d/b.txt"), "beta");
        assertEquals(0, WorkflowCommandsTest.run("build", "t/p", src.toString(), "-r", reg, "-m", "first").code());
        home = new Home(tmp.resolve("home"));
        assertEquals(0, cli("install", "t/p", "-r", reg).code());
        work = home.defaultWorkDir(PKG);
        Files.writeString(work.resolve("a.txt"), "my work");
    }

    WorkflowCommandsTest.Run cli(String... args) {
        String[] a = new String[args.length + 2];
        a[0] = "--home";
        a[1] = home.root().toString();
        System.arraycopy(args, 0, a, 2, args.length);
        return WorkflowCommandsTest.run(a);
    }

    static void oneLine(WorkflowCommandsTest.Run r, String... parts) {
        assertEquals(1, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        for (String p : parts) {
            assertTrue(r.err().contains(p), "expected '" + p + "' in: " + r.err());
        }
    }

    @Test
    void aFolderInPlaceOfTheLineageIsNamed() throws IOException {
        Path lineage = home.root().resolve(".quilt/data.json");
        Files.delete(lineage);
        Files.createDirectories(lineage.resolve("inside"));
        oneLine(cli("status", "t/p"), lineage.toString(), "is a folder", "move it aside");
        oneLine(cli("commit", "t/p", "-m", "x"), lineage.toString());
        assertTrue(Files.isDirectory(lineage.resolve("inside")));
        assertEquals("my work", Files.readString(work.resolve("a.txt")));
    }

    @Test
    void aHashCacheThatCannotBeWrittenNeverFailsACommit() throws IOException {
        Path cache = home.hashCache(PKG);
        Files.deleteIfExists(cache);
        Files.createDirectories(cache);
        var c = cli("commit", "t/p", "-m", "second");
        assertEquals(0, c.code(), c.err());
        assertEquals(1, Lineage.read(home).get(PKG).commits.size());
        var s = cli("--json", "status", "t/p");
        assertEquals(0, s.code(), s.err());
        assertEquals("Ahead", s.json().get("state").asText());
        assertEquals("my work", Files.readString(work.resolve("a.txt")));
    }

    @Test
    void aFileInPlaceOfAStateFolderIsNamed() throws IOException {
        Path installed = home.installedDir(PKG);
        Files.createDirectories(installed.getParent());
        Files.writeString(installed, "not a folder");
        oneLine(cli("commit", "t/p", "-m", "x"), installed.toString(), "in the way", "move it aside");
        assertEquals("not a folder", Files.readString(installed));
        assertEquals("my work", Files.readString(work.resolve("a.txt")));
    }

    @Test
    void aFolderInPlaceOfALockIsNamed() throws IOException {
        Path lock = Lineage.lockFile(home);
        Files.deleteIfExists(lock);
        Files.createDirectories(lock);
        oneLine(cli("commit", "t/p", "-m", "x"), lock.toString(), "is a folder", "move it aside");
        assertEquals("my work", Files.readString(work.resolve("a.txt")));
    }
}
