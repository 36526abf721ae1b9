package io.quiltfs.nativetests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.fs.fuse.FuseMount;
import io.quiltfs.store.state.MountTable;
import io.quiltfs.store.testing.TestRegistries;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code uninstall --force} deletes a working folder, but never the files of another file system
 * mounted inside it (here an editable quiltfs mount of another home, whose deletions would be
 * that mount's uncommitted removals): it stops at the mount point, says so, and finishes once it
 * is unmounted. A working folder that is itself a mount point is emptied and stays.
 */
class UninstallAroundMountTest {
    Fixture f;
    Path inner;
    /** A bind mount a test made (unmounted in {@link #tearDown}). */
    Path bound;
    /** More bind mounts a test made, unmounted in {@link #tearDown} (last first). */
    final java.util.List<Path> binds = new java.util.ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        if (f == null) {
            return;
        }
        try {
            for (int i = binds.size() - 1; i >= 0; i--) {
                while (MountTable.at(binds.get(i)) != null) {
                    if (Tool.run("umount", binds.get(i).toString()).exit() != 0) {
                        break;
                    }
                }
            }
            if (bound != null && MountTable.at(bound) != null) {
                Tool.run("umount", bound.toString());
            }
            if (inner != null && MountTable.at(inner) != null) {
                Tool.run(Tool.quiltfs(f.home.resolveSibling("other"), "unmount", inner.toString())
                        .toArray(new String[0]));
            }
            if (inner != null && MountTable.at(inner) != null) {
                FuseMount.unmount(inner, true);
            }
        } finally {
            f.close();
        }
    }

    Tool.Result cli(Path home, String... args) throws Exception {
        return Tool.run(Tool.quiltfs(home, args).toArray(new String[0]));
    }

    @Test
    void uninstallForceStopsAtAMountPointInsideTheWorkingFolder() throws Exception {
        f = new Fixture(TestRegistries.LOCAL);
        f.write("a.txt", "alpha");
        f.write("d/b.txt", "beta");
        f.build();
        Path other = f.home.resolveSibling("other");
        Path work = f.scratch.resolve("work");
        String pkg = Fixture.PKG.toString();
        cli(f.home, "install", pkg, "-r", f.uri, "--dest", work.toString()).ok();
        inner = Files.createDirectories(work.resolve("inner"));
        cli(other, "mount", pkg, inner.toString(), "-r", f.uri).ok();
        assertEquals("alpha", Files.readString(inner.resolve("a.txt")));

        // Mounts are checked first: not "uncommitted changes" (hashing the mount's files too)
        Tool.Result refused = cli(f.home, "uninstall", pkg);
        assertEquals(3, refused.exit(), refused.err());
        assertTrue(refused.err().contains("holds " + inner + ", the mount point of another file system"),
                refused.err());
        assertFalse(refused.err().contains("uncommitted"), refused.err());

        Tool.Result stopped = cli(f.home, "uninstall", pkg, "--force");
        assertEquals(3, stopped.exit(), stopped.err());
        assertEquals("quiltfs: error: the working folder of " + pkg + " holds " + inner + ", the mount point of another"
                + " file system, whose files are not the package's: unmount it, then run `quiltfs uninstall " + pkg
                + "` again to finish\n", stopped.err());
        assertEquals("alpha", Files.readString(inner.resolve("a.txt")), "the mount's files are untouched");
        assertEquals("beta", Files.readString(inner.resolve("d/b.txt")));
        assertEquals("beta", Files.readString(work.resolve("d/b.txt")), "nor the package's: nothing is deleted");
        assertEquals(0, cli(f.home, "status", pkg).exit(), "not left uninstalling");
        Tool.Result mounted = cli(other, "--json", "status", pkg).ok();
        assertTrue(mounted.out().contains("\"removed\" : [ ]"), mounted.out());

        cli(other, "unmount", inner.toString()).ok();
        cli(f.home, "uninstall", pkg).ok();
        assertFalse(Files.exists(work));
        inner = null;
    }

    @Test
    void aWorkingFolderThatIsAMountPointIsEmptiedAndStays() throws Exception {
        f = new Fixture(TestRegistries.LOCAL);
        f.write("a.txt", "alpha");
        f.write("d/b.txt", "beta");
        f.build();
        String pkg = Fixture.PKG.toString();
        inner = Files.createDirectories(f.scratch.resolve("disk"));
        cli(f.home.resolveSibling("other"), "mount", pkg, inner.toString(), "-r", f.uri).ok();
        Tool.run("rm", "-r", inner.resolve("a.txt").toString(), inner.resolve("d").toString()).ok();
        cli(f.home, "install", pkg, "-r", f.uri, "--dest", inner.toString()).ok();
        assertEquals("beta", Files.readString(inner.resolve("d/b.txt")));

        Tool.Result done = cli(f.home, "--json", "uninstall", pkg);
        assertEquals(0, done.exit(), done.err());
        assertTrue(done.out().contains("\"work_dir_fate\" : \"emptied\""), done.out());
        assertTrue(MountTable.at(inner) != null, "still mounted");
        try (var left = Files.list(inner)) {
            assertEquals(0, left.count(), "emptied");
        }
        assertEquals(4, cli(f.home, "status", pkg).exit(), "forgotten, not stuck half-way");
    }

    /**
     * A bind mount of a folder of the same disk has the working folder's st_dev: only the mount
     * table tells it. Nothing is deleted (the package's own files neither), and the package is not
     * left half-uninstalled.
     */
    @Test
    void aBindMountOfTheSameDiskInsideTheWorkingFolderIsNeverEntered() throws Exception {
        String pkg = packageWithOneFile();
        Path precious = Files.createDirectories(f.scratch.resolve("my precious"));
        Files.writeString(precious.resolve("thesis.txt"), "thesis");
        Path work = f.scratch.resolve("work");
        cli(f.home, "install", pkg, "-r", f.uri, "--dest", work.toString()).ok();
        Path in = Files.createDirectories(work.resolve("in ner"));
        Tool.run("mount", "--bind", precious.toString(), in.toString()).ok();
        bound = in;

        Tool.Result stopped = cli(f.home, "uninstall", pkg, "--force");
        assertEquals(3, stopped.exit(), stopped.err());
        assertTrue(stopped.err().contains(in + ", the mount point of another file system"), stopped.err());
        assertEquals("thesis", Files.readString(precious.resolve("thesis.txt")), "the bound folder's files are untouched");
        assertEquals("alpha", Files.readString(work.resolve("a.txt")), "nothing deleted before the refusal");
        Tool.Result status = cli(f.home, "status", pkg);
        assertEquals(0, status.exit(), "not left uninstalling: " + status.err());

        Tool.run("umount", in.toString()).ok();
        bound = null;
        cli(f.home, "uninstall", pkg, "--force").ok();
        assertFalse(Files.exists(work));
        assertEquals("thesis", Files.readString(precious.resolve("thesis.txt")));
    }

    /**
     * A mount made over the working folder after the install (another home's quiltfs mount) is
     * not the package's folder: uninstall refuses, naming it, and empties nothing.
     */
    @Test
    void aMountMadeOverTheWorkingFolderAfterTheInstallIsRefused() throws Exception {
        String pkg = packageWithOneFile();
        Path work = f.scratch.resolve("work");
        cli(f.home, "install", pkg, "-r", f.uri, "--dest", work.toString()).ok();
        Files.delete(work.resolve("a.txt"));
        inner = work;
        cli(f.home.resolveSibling("other"), "mount", pkg, work.toString(), "-r", f.uri).ok();

        Tool.Result stopped = cli(f.home, "uninstall", pkg, "--force");
        assertEquals(3, stopped.exit(), stopped.err());
        assertTrue(stopped.err().contains(work + " is now the mount point of another file system"), stopped.err());
        assertEquals("alpha", Files.readString(work.resolve("a.txt")), "the mount's files are untouched");
        assertEquals(0, cli(f.home, "status", pkg).exit(), "not left uninstalling");
    }

    /** mount --bind FROM TO, unmounted in {@link #tearDown}. */
    void bind(Path from, Path to) throws Exception {
        Tool.run("mount", "--bind", from.toString(), to.toString()).ok();
        binds.add(to);
    }

    /** A folder with a file "keep" that is not the package's. */
    Path precious(String name) throws Exception {
        Path d = Files.createDirectories(f.scratch.resolve(name));
        Files.writeString(d.resolve("keep"), "keep");
        return d;
    }

    /**
     * A bind mount made inside the working folder while {@code uninstall --force} hashes (here
     * paused just after it) is found by the second read of the mount table: nothing is deleted,
     * the package is not left half-uninstalled.
     */
    @Test
    void aMountMadeWhileUninstallHashesIsNotDeletedThrough() throws Exception {
        String pkg = packageWithOneFile();
        Path work = f.scratch.resolve("work");
        cli(f.home, "install", pkg, "-r", f.uri, "--dest", work.toString()).ok();
        Files.writeString(work.resolve("added.txt"), "added");
        Path sub = Files.createDirectories(work.resolve("sub"));
        Path other = precious("other");
        uninstallRefusedForAMountMadeAt("uninstall.after-changes", pkg, other, sub);
        assertEquals("added", Files.readString(work.resolve("added.txt")), "nothing deleted before the refusal");
        Tool.Result status = cli(f.home, "status", pkg);
        assertEquals(0, status.exit(), "not left uninstalling: " + status.err());
    }

    /**
     * A --dest that was a bind mount at the install and is a bind mount of another folder of the
     * same disk now (same type and source, another root): refused, nothing emptied.
     */
    @Test
    void anotherBindMountOfTheSameDiskOnTheWorkingFolderIsRefused() throws Exception {
        String pkg = packageWithOneFile();
        Path scratch = Files.createDirectories(f.scratch.resolve("scratch"));
        Path other = precious("other");
        Path dest = Files.createDirectories(f.scratch.resolve("dest"));
        bind(scratch, dest);
        cli(f.home, "install", pkg, "-r", f.uri, "--dest", dest.toString()).ok();
        Tool.run("umount", dest.toString()).ok();
        bind(other, dest);

        Tool.Result stopped = cli(f.home, "uninstall", pkg, "--force");
        assertEquals(3, stopped.exit(), stopped.err());
        assertTrue(stopped.err().contains(dest + " is now the mount point of another file system"), stopped.err());
        assertEquals("keep", Files.readString(other.resolve("keep")), "the other folder's files are untouched");
        assertEquals(0, cli(f.home, "status", pkg).exit(), "not left uninstalling");

        Tool.run("umount", dest.toString()).ok();
        bind(scratch, dest);
        Tool.Result done = cli(f.home, "--json", "uninstall", pkg, "--force");
        assertEquals(0, done.exit(), done.err());
        assertTrue(done.out().contains("\"work_dir_fate\" : \"emptied\""), done.out());
        assertEquals("keep", Files.readString(other.resolve("keep")));
    }

    /**
     * Another file system mounted over a folder above the working folder, holding a folder of the
     * same name (a different disk at /mnt/usb with its own pkg/): refused, its files untouched;
     * with the install's disk back, the uninstall finishes.
     */
    @Test
    void aMountOverAParentOfTheWorkingFolderIsRefused() throws Exception {
        String pkg = packageWithOneFile();
        Path disk1 = Files.createDirectories(f.scratch.resolve("disk1"));
        Path disk2 = Files.createDirectories(f.scratch.resolve("disk2"));
        Files.createDirectories(disk2.resolve("pkg"));
        Files.writeString(disk2.resolve("pkg/keep"), "keep");
        Path usb = Files.createDirectories(f.scratch.resolve("usb"));
        bind(disk1, usb);
        Path work = usb.resolve("pkg");
        cli(f.home, "install", pkg, "-r", f.uri, "--dest", work.toString()).ok();
        Tool.run("umount", usb.toString()).ok();
        bind(disk2, usb);

        Tool.Result stopped = cli(f.home, "uninstall", pkg, "--force");
        assertEquals(3, stopped.exit(), stopped.err());
        assertTrue(stopped.err().contains("the working folder of " + pkg + ", " + work + ", is now on"), stopped.err());
        assertEquals("keep", Files.readString(disk2.resolve("pkg/keep")), "the other disk's files are untouched");
        assertEquals(0, cli(f.home, "status", pkg).exit(), "not left uninstalling");

        Tool.run("umount", usb.toString()).ok();
        bind(disk1, usb);
        cli(f.home, "uninstall", pkg).ok();
        assertFalse(Files.exists(disk1.resolve("pkg")));
        assertEquals("keep", Files.readString(disk2.resolve("pkg/keep")));
    }

    /**
     * A mount point anywhere whose name is not UTF-8 (made by sh: Java cannot name it) does not
     * stop install and uninstall from reading the mount table.
     */
    @Test
    void aMountPointNamedInLatin1ElsewhereBreaksNothing() throws Exception {
        String pkg = packageWithOneFile();
        Path from = precious("from");
        Path odd = f.scratch.resolve("odd");
        Files.createDirectories(odd);
        Tool.sh("mkdir \"$(printf '" + odd + "/caf\\351')\" && mount --bind '" + from + "' \"$(printf '" + odd
                + "/caf\\351')\"").ok();
        try {
            Path work = f.scratch.resolve("work");
            cli(f.home, "install", pkg, "-r", f.uri, "--dest", work.toString()).ok();
            cli(f.home, "uninstall", pkg).ok();
            assertFalse(Files.exists(work));
        } finally {
            Tool.sh("umount \"$(printf '" + odd + "/caf\\351')\"").ok();
        }
        assertEquals("keep", Files.readString(from.resolve("keep")));
    }

    /**
     * A bind mount made during the deletion, over a folder not entered yet: the mount table is
     * read again before entering each folder, so the bound folder's files stay; what was deleted
     * stays deleted, and the package stays marked until `uninstall` runs again after the unmount.
     */
    @Test
    void aMountMadeDuringTheDeletionIsNotEntered() throws Exception {
        String pkg = packageWithOneFile();
        Path work = f.scratch.resolve("work");
        cli(f.home, "install", pkg, "-r", f.uri, "--dest", work.toString()).ok();
        Path sub = Files.createDirectories(work.resolve("sub"));
        Files.writeString(sub.resolve("mine.txt"), "mine");
        Path other = precious("other");
        uninstallRefusedForAMountMadeAt("uninstall.entering", pkg, other, sub);
        assertEquals(3, cli(f.home, "status", pkg).exit(), "marked: the deletion had started");

        Tool.run("umount", sub.toString()).ok();
        cli(f.home, "uninstall", pkg).ok();
        assertFalse(Files.exists(work));
        assertEquals("keep", Files.readString(other.resolve("keep")));
    }

    /**
     * Runs `uninstall --force` of {@code pkg} paused at {@code checkpoint}, binds {@code other}
     * over {@code sub} meanwhile, lets it go on, and checks that it refuses (exit 3, naming
     * {@code sub}) without touching the bound folder's files.
     */
    void uninstallRefusedForAMountMadeAt(String checkpoint, String pkg, Path other, Path sub) throws Exception {
        Path paused = f.scratch.resolve("paused");
        Path resume = f.scratch.resolve("resume");
        ProcessBuilder pb = new ProcessBuilder(Tool.quiltfs(f.home, "uninstall", pkg, "--force"))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(f.scratch.resolve("err").toFile());
        pb.environment().put("QUILTFS_TEST_PAUSE_AT", checkpoint);
        pb.environment().put("QUILTFS_TEST_PAUSE_FILE", paused.toString());
        pb.environment().put("QUILTFS_TEST_RESUME_FILE", resume.toString());
        Process u = pb.start();
        try {
            for (int i = 0; i < 1200 && !Files.exists(paused) && u.isAlive(); i++) {
                Thread.sleep(50);
            }
            assertTrue(Files.exists(paused), "paused at " + checkpoint);
            bind(other, sub);
            Files.writeString(resume, "go");
            assertTrue(u.waitFor(120, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
            u.destroyForcibly();
        }
        String err = Files.readString(f.scratch.resolve("err"));
        assertEquals(3, u.exitValue(), err);
        assertTrue(err.contains("holds " + sub + ", the mount point of another file system"), err);
        assertEquals("keep", Files.readString(other.resolve("keep")), "the bound folder's files are untouched");
    }

    /** mount -t TYPE SOURCE [-o OPTIONS] TO, unmounted in {@link #tearDown}. */
    void mount(String type, String source, String options, Path to) throws Exception {
        if (options == null) {
            Tool.run("mount", "-t", type, source, to.toString()).ok();
        } else {
            Tool.run("mount", "-t", type, "-o", options, source, to.toString()).ok();
        }
        binds.add(to);
    }

    /**
     * An overlay (device 0:N, numbered at each mount) mounted again after another file system
     * took its number: the same file system, the same folder (inode); the uninstall finishes.
     * A tmpfs mounted there since, with a folder of the same name, is refused.
     */
    @Test
    void theSameFileSystemMountedAgainWithAnotherDeviceNumberIsTheSame() throws Exception {
        String pkg = packageWithOneFile();
        Path lower = Files.createDirectories(f.scratch.resolve("lower"));
        Path upper = Files.createDirectories(f.scratch.resolve("upper"));
        Path ovWork = Files.createDirectories(f.scratch.resolve("ovwork"));
        Path x = Files.createDirectories(f.scratch.resolve("x"));
        Path taker = Files.createDirectories(f.scratch.resolve("taker"));
        String options = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + ovWork;
        mount("overlay", "quiltfs-ov", options, x);
        String before = MountTable.at(x).device();
        Path work = x.resolve("work");
        cli(f.home, "install", pkg, "-r", f.uri, "--dest", work.toString()).ok();
        Tool.run("umount", x.toString()).ok();
        mount("tmpfs", "quiltfs-taker", null, taker); // takes the number the overlay had
        mount("overlay", "quiltfs-ov", options, x);
        assertNotEquals(before, MountTable.at(x).device(), "test set-up: another device number");

        // A record of the previous version (no inode): refused, saying that only the device differs.
        Path lineage = new io.quiltfs.store.state.Home(f.home).lineageFile();
        String now = Files.readString(lineage);
        String older = now.replaceAll("(\"at [^\"]* overlay quiltfs-ov) [0-9]+\"", "$1\"");
        assertNotEquals(now, older, "test set-up: the record's inode dropped");
        Files.writeString(lineage, older);
        Tool.Result refused = cli(f.home, "uninstall", pkg, "--force");
        assertEquals(3, refused.exit(), refused.err());
        assertTrue(refused.err().contains("only its device number differs (" + MountTable.at(x).device() + ", not "
                + before + ")"), refused.err());
        Files.writeString(lineage, now);

        Tool.run("umount", x.toString()).ok();
        mount("tmpfs", "quiltfs-ov", null, x); // same source and place, another file system
        Files.createDirectories(work);
        Files.writeString(work.resolve("keep"), "keep");
        Tool.Result stopped = cli(f.home, "uninstall", pkg, "--force");
        assertEquals(3, stopped.exit(), stopped.err());
        assertEquals("keep", Files.readString(work.resolve("keep")), "the other file system's files are untouched");
        Tool.run("umount", x.toString()).ok();

        mount("overlay", "quiltfs-ov", options, x);
        Tool.Result done = cli(f.home, "uninstall", pkg);
        assertEquals(0, done.exit(), done.err());
        assertFalse(Files.exists(work));
    }

    /**
     * A disk mounted on a/b holding the working folder a/b/work, then another mounted on a with
     * its own b/work: the first is still listed but out of reach; refused, the second's files
     * untouched.
     */
    @Test
    void aMountCoveredByALaterMountAboveItIsNotTheOneHoldingTheFolder() throws Exception {
        String pkg = packageWithOneFile();
        Path a = Files.createDirectories(f.scratch.resolve("t/a"));
        Path b = Files.createDirectories(a.resolve("b"));
        mount("tmpfs", "diskA", null, b);
        Path work = b.resolve("work");
        cli(f.home, "install", pkg, "-r", f.uri, "--dest", work.toString()).ok();
        mount("tmpfs", "diskE", null, a);
        Files.createDirectories(work);
        Files.writeString(work.resolve("a.txt"), "alpha");

        Tool.Result stopped = cli(f.home, "uninstall", pkg, "--force");
        assertEquals(3, stopped.exit(), stopped.err());
        assertEquals("alpha", Files.readString(work.resolve("a.txt")), "diskE's files are untouched");
        assertEquals(0, cli(f.home, "status", pkg).exit(), "not left uninstalling");
    }

    /** A package holding a.txt in a local registry of a new fixture; returns its name. */
    String packageWithOneFile() throws Exception {
        f = new Fixture(TestRegistries.LOCAL);
        f.write("a.txt", "alpha");
        f.build();
        return Fixture.PKG.toString();
    }
}
