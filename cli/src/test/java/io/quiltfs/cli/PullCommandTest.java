package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.TestRegistries;
import io.quiltfs.store.workflow.InstalledPackage;
import io.quiltfs.store.workflow.WorkFolder;
import io.quiltfs.store.workflow.WorkingFiles;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code quiltfs pull} that fails while it writes files: one line naming the key, the cause and what to do. */
class PullCommandTest {
    static final PackageName PKG = PackageName.parse("t/p");

    @TempDir
    Path tmp;

    Path home;

    WorkflowCommandsTest.Run cli(String... args) {
        List<String> a = new ArrayList<>(List.of("--home", home.toString()));
        a.addAll(List.of(args));
        return WorkflowCommandsTest.run(a.toArray(new String[0]));
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aPullStoppedByAFullDiskSaysWhichKeyAndIsFinishedOnceThereIsRoom(TestRegistries.Kind kind)
            throws IOException {
        String reg = kind.newRegistry(tmp);
        Path src = tmp.resolve("src");
        Files.createDirectories(src);
        Files.writeString(src.resolve("a.txt"), "alpha");
        assertEquals(0, WorkflowCommandsTest.run("build", "t/p", src.toString(), "-r", reg, "-m", "first").code());
        home = tmp.resolve("home");
        assertEquals(0, cli("install", "t/p", "-r", reg).code());
        Path work = new Home(home).defaultWorkDir(PKG);
        String h2 = tmp.resolve("h2").toString();
        Path w2 = tmp.resolve("w2");
        assertEquals(0, WorkflowCommandsTest.run("--home", h2, "install", "t/p", "-r", reg, "--dest", w2.toString())
                .code());
        for (int i = 0; i < 5; i++) {
            Files.writeString(w2.resolve("f" + i), "file " + i);
        }
        Files.writeString(w2.resolve("a.txt"), "alpha 2");
        assertEquals(0, WorkflowCommandsTest.run("--home", h2, "commit", "t/p", "-m", "more").code());
        assertEquals(0, WorkflowCommandsTest.run("--home", h2, "push", "t/p").code());

        WorkFolder folder = new WorkFolder(work);
        AtomicInteger placed = new AtomicInteger();
        String[] failed = {null};
        InstalledPackage.attach(work, new WorkingFiles() {
            public Map<String, FileStat> scan() throws IOException { return folder.scan(); }
            public FileStat stat(String key) throws IOException { return folder.stat(key); }
            public Path path(String key) { return folder.path(key); }
            public void delete(String key) throws IOException { folder.delete(key); }
            public String describe() { return folder.describe(); }

            public FileStat place(String key, Path source) throws IOException {
                if (placed.incrementAndGet() == 3) {
                    failed[0] = key;
                    throw new FileSystemException(folder.path(key).toString(), null, "No space left on device");
                }
                return folder.place(key, source);
            }
        });
        WorkflowCommandsTest.Run r;
        try {
            r = cli("pull", "t/p");
        } finally {
            InstalledPackage.detach(work);
        }
        assertEquals(ExitCodes.FAILURE, r.code(), r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("quiltfs: error: cannot pull t/p: '" + failed[0] + "' could not be written ("), err);
        assertTrue(err.contains("No space left on device"), err);
        assertTrue(err.endsWith("fix that and run `quiltfs pull t/p` to finish it"), err);

        var status = cli("status", "t/p");
        assertTrue(status.out().contains("did not finish: run `quiltfs pull t/p` to finish it"), status.out());
        String gone = "a.txt"; // changed by the pull (placed or not yet), removed by the user since
        Files.delete(work.resolve(gone));
        status = cli("status", "t/p");
        assertTrue(status.out().contains("put back: " + gone), status.out());
        assertTrue(!status.out().contains("removed:"), "not a plain removal: " + status.out());
        var again = cli("pull", "t/p");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("put back '" + gone + "', removed since the pull stopped: remove it again"
                + " if you meant to"), again.out());
        for (int i = 0; i < 5; i++) {
            assertEquals("file " + i, Files.readString(work.resolve("f" + i)));
        }
        assertEquals("alpha 2", Files.readString(work.resolve(gone)));
        var json = cli("--json", "status", "t/p").json();
        assertEquals("UpToDate", json.get("state").asText());
        assertTrue(json.get("added").isEmpty(), json.toString());
    }
}
