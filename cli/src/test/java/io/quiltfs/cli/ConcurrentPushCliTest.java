package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Revision;
import io.quiltfs.store.state.Home;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several people (homes) pushing one package to one local registry at once, each in its own
 * process: whatever the order the processes run in, exactly one moves latest, the others exit 3
 * saying so and publish nothing, and after a pull each can push. (The interleavings themselves
 * are tested with barriers in the store's SharedRegistryTest; S3 is left out here because
 * S3Proxy's conditional writes are not atomic, see the README.)
 */
class ConcurrentPushCliTest {
    static final PackageName PKG = PackageName.parse("t/p");

    @TempDir
    Path tmp;

    @Test
    void ofThreeSimultaneousPushesOneWinsAndTheOthersPullAndPush() throws Exception {
        Path reg = tmp.resolve("registry");
        Path src = tmp.resolve("src");
        Files.createDirectories(src);
        Files.writeString(src.resolve("base.txt"), "base");
        assertEquals(0, WorkflowCommandsTest.run("build", "t/p", src.toString(), "-r", reg.toString(), "-m", "v1").code());
        List<String> homes = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String h = tmp.resolve("home" + i).toString();
            homes.add(h);
            assertEquals(0, WorkflowCommandsTest.run("--home", h, "install", "t/p", "-r", reg.toString()).code());
            Files.writeString(new Home(Path.of(h)).defaultWorkDir(PKG).resolve("user" + i + ".txt"), "user " + i);
            assertEquals(0, WorkflowCommandsTest.run("--home", h, "commit", "t/p", "-m", "user " + i).code());
        }
        List<Process> procs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            procs.add(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    "io.quiltfs.cli.Main", "--home", homes.get(i), "push", "t/p")
                    .redirectErrorStream(true).redirectOutput(tmp.resolve("push" + i + ".log").toFile()).start());
        }
        int winners = 0;
        String winner = null;
        for (int i = 0; i < 3; i++) {
            Process p = procs.get(i);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "push " + i + " ended");
            String log = Files.readString(tmp.resolve("push" + i + ".log"));
            if (p.exitValue() == 0) {
                winners++;
                int at = log.indexOf("pushed t/p@");
                assertTrue(at >= 0, log);
                winner = log.substring(at + "pushed t/p@".length(), at + "pushed t/p@".length() + 64);
            } else {
                assertEquals(ExitCodes.CONFLICT, p.exitValue(), log);
                assertTrue(log.contains("has diverged") && log.contains("nothing was pushed")
                        && log.contains("quiltfs pull t/p"), log);
            }
        }
        assertEquals(1, winners, "exactly one push moves latest");
        LocalRegistry r = new LocalRegistry(reg);
        assertEquals(winner, r.latest(PKG));
        List<Revision> revs = r.revisions(PKG);
        assertEquals(2, revs.size(), "v1 and the winner's revision, no pointer of a refused push: " + revs);
        assertEquals(winner, revs.get(0).topHash());

        for (String h : homes) {
            assertEquals(0, WorkflowCommandsTest.run("--home", h, "pull", "t/p").code());
            WorkflowCommandsTest.Run push = WorkflowCommandsTest.run("--home", h, "push", "t/p");
            assertEquals(0, push.code(), push.err());
        }
        Home last = new Home(Path.of(homes.get(2)));
        for (int i = 0; i < 3; i++) {
            assertEquals("user " + i, Files.readString(last.defaultWorkDir(PKG).resolve("user" + i + ".txt")),
                    "nothing was lost");
        }
    }
}
