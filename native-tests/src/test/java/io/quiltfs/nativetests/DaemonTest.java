package io.quiltfs.nativetests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.fs.fuse.FuseMount;
import io.quiltfs.store.state.MountTable;
import io.quiltfs.store.testing.TestRegistries;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The CLI's mount daemon as a separate process: background start, unmount, SIGKILL, stale mounts. */
class DaemonTest {
    Fixture f;
    Path mnt;
    final List<Process> started = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        f = new Fixture(TestRegistries.LOCAL);
        f.write("hello.txt", "hello\n");
        f.build();
        mnt = Files.createDirectories(f.scratch.resolve("mnt"));
        f.mnt = mnt;
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            if (MountTable.at(mnt) != null) {
                FuseMount.unmount(mnt, true);
            }
            for (Process p : started) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } finally {
            f.close();
        }
    }

    Process start(String... args) throws Exception {
        Path log = f.scratch.resolve("child-" + started.size() + ".log");
        Process p = new ProcessBuilder(Tool.quiltfs(f.home, args)).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        started.add(p);
        return p;
    }

    int cli(String... args) throws Exception {
        Process p = start(args);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "quiltfs " + String.join(" ", args) + " timed out");
        return p.exitValue();
    }

    void awaitMounted(Process p) throws Exception {
        for (int i = 0; i < 600 && p.isAlive(); i++) {
            MountTable.Mount m = MountTable.at(mnt);
            if (m != null && m.fsType().equals("fuse.quiltfs")) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("not mounted; child log: "
                + Files.readString(f.scratch.resolve("child-" + (started.size() - 1) + ".log")));
    }

    void awaitGone() throws Exception {
        for (int i = 0; i < 200 && MountTable.at(mnt) != null; i++) {
            Thread.sleep(50);
        }
    }

    @Test
    void mountReturnsOnceReadyAndUnmountStopsTheDaemon() throws Exception {
        assertEquals(0, cli("mount", Fixture.PKG.toString(), mnt.toString(), "--registry", f.uri));
        assertEquals("hello\n", Tool.run("cat", mnt.resolve("hello.txt").toString()).ok().out());
        Path state;
        try (var s = Files.list(f.home.resolve("mounts"))) {
            state = s.filter(p -> p.toString().endsWith(".json")).findFirst().orElseThrow();
        }
        long pid = io.quiltfs.store.json.Json.parse(Files.readString(state)).path("pid").asLong();
        assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        assertEquals(3, cli("mount", Fixture.PKG.toString(), mnt.toString(), "--registry", f.uri), "already mounted");
        assertEquals(0, cli("unmount", mnt.toString()));
        assertNull(MountTable.at(mnt));
        assertTrue(ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true), "the daemon stopped");
        assertTrue(Files.notExists(state));
        try (var s = Files.list(f.home.resolve("logs"))) {
            assertTrue(s.findFirst().isPresent(), "the daemon logs in the home");
        }
        assertEquals(4, cli("unmount", mnt.toString()));
    }

    /** install and uninstall of a package edited through a mount never touch the mount's working area. */
    @Test
    void installAndUninstallLeaveAMountsWorkingAreaAlone() throws Exception {
        f.write("journal", "a key named like the working area's journal\n");
        f.build();
        String pkg = Fixture.PKG.toString();
        Path area = new io.quiltfs.store.state.Home(f.home).mountArea(Fixture.PKG);
        assertEquals(0, cli("mount", pkg, mnt.toString(), "--registry", f.uri));
        Files.writeString(mnt.resolve("new.txt"), "edited through the mount\n");
        String journal = Files.readString(area.resolve("journal"));
        assertEquals(3, cli("install", pkg), "the mount's area is not a working folder");
        assertEquals(3, cli("install", pkg, "--path", "journal"));
        assertEquals(3, cli("install", pkg, "--path", "hello.txt"));
        assertEquals(journal, Files.readString(area.resolve("journal")), "the journal is the mount's, untouched");
        assertTrue(Files.notExists(area.resolve("hello.txt")), "no file placed beside the journal");
        assertEquals(3, cli("uninstall", "--force", pkg), "never under a running mount");
        assertEquals("edited through the mount\n", Files.readString(mnt.resolve("new.txt")));
        assertTrue(Files.isDirectory(area));
        assertEquals(0, cli("unmount", mnt.toString()));
        assertEquals(3, cli("uninstall", pkg), "an uncommitted edit of the mount");
        assertTrue(Files.readString(f.scratch.resolve("child-" + (started.size() - 1) + ".log"))
                .contains("(added 'new.txt')"), "the area's journal names the changes, not its files");
        assertEquals(0, cli("uninstall", "--force", pkg));
        assertTrue(Files.notExists(area));
        assertEquals(0, cli("mount", pkg, mnt.toString(), "--registry", f.uri));
        assertEquals(0, cli("unmount", mnt.toString()));
        assertEquals(0, cli("uninstall", pkg), "nothing changed: uninstall needs no --force");
    }

    @Test
    void aBusyMountIsRefusedUnlessLazy() throws Exception {
        assertEquals(0, cli("mount", Fixture.PKG.toString(), mnt.toString(), "--registry", f.uri));
        Process holder = new ProcessBuilder("sleep", "60").directory(mnt.toFile()).start();
        started.add(holder);
        assertEquals(3, cli("unmount", mnt.toString()), "busy: a process has its working folder there");
        assertNotNull(MountTable.at(mnt));
        assertEquals(0, cli("unmount", "--lazy", mnt.toString()));
        assertNull(MountTable.at(mnt));
        holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    @Test
    void killMinusNineLeavesNoStaleMount() throws Exception {
        Process p = start("mount", Fixture.PKG.toString(), mnt.toString(), "--registry", f.uri, "--foreground");
        awaitMounted(p);
        assertEquals("hello\n", Tool.run("cat", mnt.resolve("hello.txt").toString()).ok().out());
        p.destroyForcibly(); // SIGKILL
        p.waitFor(10, TimeUnit.SECONDS);
        awaitGone();
        assertNull(MountTable.at(mnt), "auto_unmount removed the mount");
        assertTrue(Tool.run("ls", mnt.toString()).ok().out().isEmpty());
    }

    @Test
    void mountCleansAStaleMountPoint() throws Exception {
        String ref = Fixture.PKG + "@" + f.topHash;
        Process p = start("__daemon", ref, mnt.toString(), "--registry", f.uri, "--cache-bytes", "100000000",
                "--no-auto-unmount");
        awaitMounted(p);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        assertNotNull(MountTable.at(mnt));
        assertTrue(FuseMount.isStale(mnt), "a SIGKILL without auto_unmount leaves a stale mount");
        assertEquals(0, cli("mount", Fixture.PKG.toString(), mnt.toString(), "--registry", f.uri));
        assertEquals("hello\n", Tool.run("cat", mnt.resolve("hello.txt").toString()).ok().out());
        assertEquals(0, cli("unmount", mnt.toString()));
        assertNull(MountTable.at(mnt));
    }
}
