package io.quiltfs.nativetests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.fs.fuse.FuseMount;
import io.quiltfs.store.state.MountTable;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.testing.TestRegistries;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Editing a real mount with ordinary tools, committing and pushing from it (through the
 * control files and the CLI), and what survives a kill -9 of the mount's process.
 */
class MountWriteTest {
    Fixture f;
    Map<String, String> env = Map.of();
    final List<Path> mounts = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        if (f == null) {
            return;
        }
        try {
            for (Path mp : mounts) {
                if (MountTable.at(mp) != null) {
                    cli("unmount", mp.toString());
                }
                if (MountTable.at(mp) != null) {
                    FuseMount.unmount(mp, true);
                }
            }
        } finally {
            f.close();
        }
    }

    void setUp(TestRegistries.Kind kind) throws Exception {
        f = new Fixture(kind);
        env = kind.environment(); // the S3 kind tells child processes where its server is
        f.write("README.md", "# a package\n");
        f.write("notes.txt", "alpha\nbeta\n");
        for (int d = 0; d < 3; d++) {
            for (int i = 0; i < 3; i++) {
                f.write("data/dir" + d + "/file" + i + ".csv", "row," + d + "," + i + "\n");
            }
        }
        f.write("data/deep/a/b/needle.txt", "deep\n");
        byte[] mid = new byte[2 << 20];
        new java.util.Random(3).nextBytes(mid);
        Files.write(f.src.resolve("blob.bin"), mid);
        f.build();
    }

    Tool.Result cli(String... args) throws Exception {
        return cliIn(f.home, args);
    }

    Tool.Result cliIn(Path home, String... args) throws Exception {
        Path out = Files.createTempFile(f.scratch, "cli", ".out");
        Path err = Files.createTempFile(f.scratch, "cli", ".err");
        ProcessBuilder pb = new ProcessBuilder(Tool.quiltfs(home, args)).redirectOutput(out.toFile())
                .redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: quiltfs " + Arrays.toString(args));
        }
        return new Tool.Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    Path mount(String ref, String name, String... extra) throws Exception {
        Path mp = Files.createDirectories(f.scratch.resolve(name));
        mounts.add(mp);
        List<String> args = new ArrayList<>(List.of("mount", ref, mp.toString(), "-r", f.uri));
        args.addAll(Arrays.asList(extra));
        cli(args.toArray(new String[0])).ok();
        return mp;
    }

    /** The mount record of the mount at {@code mnt}. */
    Path recordOf(Path mnt) throws IOException {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(f.home.resolve("mounts"), "*.json")) {
            for (Path p : s) {
                if (Path.of(Json.parse(Files.readString(p)).path("mountpoint").asText()).toAbsolutePath().normalize()
                        .equals(mnt.toAbsolutePath().normalize())) {
                    return p;
                }
            }
        }
        throw new AssertionError("no mount record for " + mnt);
    }

    static String q(Path p) {
        return MountToolsTest.q(p);
    }

    /** The same edits, with ordinary tools, in folder R (the mount, or a plain copy for the expected tree). */
    static String edits(Path r, Path tree, Path tar) {
        String R = q(r);
        return String.join(" && ", List.of(
                "cp -r " + q(tree) + " " + R + "/tree",
                "sed -i 's/row/ROW/' " + R + "/data/dir0/file0.csv",
                "echo appended >> " + R + "/README.md",
                "truncate -s 3 " + R + "/data/dir1/file1.csv",
                "mv " + R + "/data/dir2 " + R + "/moved",
                "rm -r " + R + "/data/deep",
                "vim.tiny -u NONE -N -es -c 'set backup writebackup' -c '%s/beta/gamma/' -c wq " + R + "/notes.txt",
                "rsync -a " + q(tree) + "/ " + R + "/rsynced/",
                "mkdir " + R + "/untarred",
                "tar -C " + R + "/untarred -xf " + q(tar),
                "mv " + R + "/tree/sub " + R + "/tree/sub2",
                "printf 'new bytes' > " + R + "/blob.bin"));
    }

    Path makeTree() throws Exception {
        Path tree = Files.createDirectories(f.scratch.resolve("tree/sub/inner"));
        for (int i = 0; i < 20; i++) {
            Files.writeString(f.scratch.resolve("tree/t" + i + ".txt"), "tree file " + i + "\n");
            Files.writeString(f.scratch.resolve("tree/sub/inner/s" + i + ".txt"), "inner " + i + "\n");
        }
        return f.scratch.resolve("tree");
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void editCommitThroughCtlPushAndInstall(TestRegistries.Kind kind) throws Exception {
        setUp(kind);
        Path tree = makeTree();
        Path tar = f.scratch.resolve("t.tar");
        Tool.sh("tar -C " + q(tree) + " -cf " + q(tar) + " .").ok();
        Path expected = f.scratch.resolve("expected");
        Tool.sh("cp -r " + q(f.src) + " " + q(expected)).ok();
        Tool.sh(edits(expected, tree, tar)).ok();
        Tool.sh("rm -f " + q(expected) + "/notes.txt~").ok();

        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Tool.sh(edits(mnt, tree, tar)).ok();
        Tool.sh("rm -f " + q(mnt) + "/notes.txt~").ok();
        assertEquals("", Tool.run("diff", "-r", "-x", ".quiltfs", expected.toString(), mnt.toString()).ok().out());
        JsonNode st = Json.parse(Tool.run("cat", mnt.resolve(".quiltfs/status").toString()).ok().out());
        assertTrue(st.path("added").size() > 40, st.toString());
        assertTrue(st.path("removed").toString().contains("data/deep/a/b/needle.txt"), st.toString());

        String res = Tool.sh("echo 'commit -m \"edited in the mount\"' > " + q(mnt) + "/.quiltfs/ctl && cat "
                + q(mnt) + "/.quiltfs/ctl").ok().out();
        assertTrue(res.trim().endsWith("exit 0"), res);
        String top = res.lines().findFirst().orElseThrow().trim();
        assertEquals(64, top.length(), res);
        Path manifest = f.home.resolve(".quilt/installed/test/mounted/" + top);
        assertEquals(top, cli("manifest", "tophash", manifest.toString()).ok().out().trim());
        assertEquals(top, Tool.run("getfattr", "--only-values", "-n", "user.quilt.top_hash", mnt.toString()).ok().out().trim(),
                "the mount shows the new revision");
        JsonNode clean = Json.parse(cli("--json", "status", mnt.toString()).ok().out());
        assertEquals(0, clean.path("added").size() + clean.path("modified").size() + clean.path("removed").size(),
                clean.toString());
        assertEquals("", Tool.run("diff", "-r", "-x", ".quiltfs", expected.toString(), mnt.toString()).ok().out());

        cli("push", mnt.toString()).ok();
        Path ro = mount("test/mounted@" + top, "ro", "--read-only");
        assertEquals("", Tool.run("diff", "-r", expected.toString(), ro.toString()).ok().out());
        assertTrue(Tool.run("touch", ro.resolve("x").toString()).exit() != 0, "read-only");

        Path home2 = f.scratch.resolve("home2");
        Path dest = f.scratch.resolve("installed");
        cliIn(home2, "install", "test/mounted@" + top, "-r", f.uri, "--dest", dest.toString()).ok();
        assertEquals("", Tool.run("diff", "-r", expected.toString(), dest.toString()).ok().out());

        Tool.Result un = cli("unmount", mnt.toString()).ok();
        assertTrue(!un.out().contains("kept the working area"), un.out());
    }

    @Test
    void eachCommandLineWrittenToCtlRunsInOrderAndAFailureStopsTheRest() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Files.writeString(mnt.resolve("new.txt"), "new\n");
        // One descriptor, two writes, three lines (a quoted newline is part of the message).
        String res = Tool.sh("{ printf 'commit -m \"two\\nlines\"\\n'; printf 'push\\n'; } > " + q(mnt)
                + "/.quiltfs/ctl && cat " + q(mnt) + "/.quiltfs/ctl").ok().out();
        assertEquals(2, res.lines().filter(l -> l.equals("exit 0")).count(), res);
        String top = res.lines().findFirst().orElseThrow().trim();
        assertEquals(top, f.registry.latest(io.quiltfs.store.registry.PackageName.parse("test/mounted")),
                "the commit, then the push: " + res);
        assertEquals("two\nlines", f.registry.readManifest(top).message());

        Files.writeString(mnt.resolve("new.txt"), "changed\n");
        String failed = Tool.sh("printf 'commit --no-such-option\\npush\\n' > " + q(mnt) + "/.quiltfs/ctl && cat "
                + q(mnt) + "/.quiltfs/ctl").ok().out();
        assertEquals(1, failed.lines().filter(l -> l.startsWith("exit ")).count(), "the push did not run: " + failed);
        assertTrue(failed.trim().endsWith("exit 2"), failed);
        assertEquals(top, f.registry.latest(io.quiltfs.store.registry.PackageName.parse("test/mounted")));
    }

    @Test
    void killDuringAStormOfWritesKeepsEveryClosedFile() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Files.createDirectories(mnt.resolve("storm"));
        Path done = f.scratch.resolve("done.list");
        Process writer = new ProcessBuilder("sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); "
                + "printf 'payload-%d-%0300d' $i $i > " + q(mnt) + "/storm/f$i || exit 0; echo $i >> " + q(done)
                + "; done").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        for (int i = 0; i < 200 && (!Files.exists(done) || Files.readAllLines(done).size() < 300); i++) {
            Thread.sleep(20);
        }
        long pid = daemonPid();
        Tool.run("kill", "-9", Long.toString(pid)).ok();
        assertTrue(writer.waitFor(60, TimeUnit.SECONDS));
        List<String> closed = Files.readAllLines(done);
        assertTrue(closed.size() >= 300, "the writer wrote " + closed.size() + " files before the kill");

        JsonNode st = Json.parse(cli("--json", "status", "test/mounted", "--offline").ok().out());
        assertTrue(st.path("added").size() >= closed.size(), "status lists the writes without a mount: " + st.path("added").size());

        for (int i = 0; i < 100 && MountTable.at(mnt) != null && !FuseMount.isStale(mnt); i++) {
            Thread.sleep(50);
        }
        cli("mount", "test/mounted", mnt.toString(), "-r", f.uri).ok();
        for (String n : closed) {
            int i = Integer.parseInt(n.trim());
            assertEquals(String.format("payload-%d-%0300d", i, i), Files.readString(mnt.resolve("storm/f" + i)), "f" + i);
        }
        Tool.Result un = cli("unmount", mnt.toString()).ok();
        assertTrue(un.out().contains("kept the working area"), un.out());
    }

    /**
     * The safe save of a file (write a temporary file, fsync it, rename it over the old one,
     * fsync the folder) makes the rename durable as on a local disk: the folder's fsync forces
     * the journal. Seen from outside with strace on the mount's process (a power loss cannot be
     * made here); before, libfuse answered ENOSYS and the kernel called every folder fsync done.
     */
    @Test
    void anFsyncOfAFolderForcesTheJournal() throws Exception {
        assumeOrFailOnCi(Tool.sh("command -v strace").exit() == 0, "strace is not installed");
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Files.writeString(mnt.resolve("notes.txt.tmp"), "saved\n");
        Path trace = f.scratch.resolve("strace.out");
        long pid = daemonPid();
        int threads;
        try (Stream<Path> t = Files.list(Path.of("/proc/" + pid + "/task"))) {
            threads = (int) t.count();
        }
        Process strace = new ProcessBuilder("strace", "-f", "-e", "trace=fdatasync", "-o", trace.toString(),
                "-p", Long.toString(pid)).redirectErrorStream(true).start();
        try {
            // strace says when it attached to every thread ("attached with N threads"; older ones
            // name each thread): it traces from then on (a thread that ended meanwhile is not
            // named: then at most 10 s).
            java.util.concurrent.CountDownLatch attached = new java.util.concurrent.CountDownLatch(1);
            Thread reader = new Thread(() -> {
                try (java.io.BufferedReader err = new java.io.BufferedReader(
                        new java.io.InputStreamReader(strace.getInputStream(), StandardCharsets.UTF_8))) {
                    int named = 0;
                    for (String line; (line = err.readLine()) != null;) {
                        if (line.contains("attached with") || (line.contains("attached") && ++named >= threads)) {
                            attached.countDown();
                        }
                    }
                } catch (IOException ignored) {
                    // strace ended
                }
            });
            reader.setDaemon(true);
            reader.start();
            assumeOrFailOnCi(attached.await(10, TimeUnit.SECONDS), "strace cannot attach to the mount's process here");
            String journal = f.home.resolve("mounts/areas/test/mounted/journal").toRealPath().toString();
            Tool.run("python3", "-c", "import os, sys\n"
                    + "os.rename(sys.argv[1] + '/notes.txt.tmp', sys.argv[1] + '/notes.txt')\n"
                    + "fd = os.open(sys.argv[1], os.O_RDONLY)\nos.fsync(fd)\nos.close(fd)\n", mnt.toString()).ok();
            strace.destroy(); // strace detaches and writes out what it saw
            strace.waitFor(10, TimeUnit.SECONDS);
            String fd = null;
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/" + pid + "/fd"))) {
                for (Path p : fds) {
                    try {
                        if (Files.readSymbolicLink(p).toString().equals(journal)) {
                            fd = p.getFileName().toString();
                        }
                    } catch (IOException closedMeanwhile) {
                        // not the journal
                    }
                }
            }
            assertTrue(fd != null, "the journal is open in the mount's process");
            String traced = Files.readString(trace);
            assertTrue(traced.contains("fdatasync(" + fd + ")"), "the folder's fsync forced the journal (fd " + fd + "):\n" + traced);
        } finally {
            strace.destroyForcibly();
        }
        assertEquals("saved\n", Files.readString(mnt.resolve("notes.txt")));
    }

    /**
     * Skips the test where {@code ok} is false, except on CI ({@code CI} or {@code QUILTFS_CI}
     * set, as .ci/run does): there the environment is ours, and a skip would hide that the test
     * never ran.
     */
    static void assumeOrFailOnCi(boolean ok, String why) {
        if (!ok && (System.getenv("CI") != null || System.getenv("QUILTFS_CI") != null)) {
            throw new AssertionError(why + " (on CI, where this test must run)");
        }
        Assumptions.assumeTrue(ok, why);
    }

    long daemonPid() throws IOException {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(f.home.resolve("mounts"), "*.json")) {
            for (Path p : s) {
                return Json.parse(Files.readString(p)).path("pid").asLong();
            }
        }
        throw new AssertionError("no mount record");
    }

    @Test
    void eightWritersDuringACommitLandInOneOfTheTwoRevisions() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        int writers = 8;
        java.util.concurrent.atomic.AtomicBoolean committed = new java.util.concurrent.atomic.AtomicBoolean();
        int[] written = new int[writers];
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        List<Future<?>> jobs = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int id = w;
            jobs.add(pool.submit(() -> {
                Path p = mnt.resolve("w" + id + ".bin");
                // Writes before, during and after the commit: 50 chunks more once it returned.
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                    int c = 0;
                    int after = 0;
                    while (after < 50 && c < 20_000) {
                        ch.write(ByteBuffer.wrap(chunk(id, c++)));
                        if (committed.get()) {
                            after++;
                        }
                        Thread.sleep(1);
                    }
                    written[id] = c;
                }
                return null;
            }));
        }
        Thread.sleep(300);
        String first = Tool.sh("echo 'commit -m during' > " + q(mnt) + "/.quiltfs/ctl && cat " + q(mnt) + "/.quiltfs/ctl").ok().out();
        committed.set(true);
        for (Future<?> j : jobs) {
            j.get(120, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertTrue(first.trim().endsWith("exit 0"), first);
        String rev1 = first.lines().findFirst().orElseThrow().trim();
        cli("push", mnt.toString()).ok();
        Tool.Result second = cli("commit", mnt.toString(), "-m", "after");
        second.ok();
        String rev2 = second.out().lines().findFirst().orElseThrow().trim();
        cli("push", mnt.toString()).ok();

        Path r1 = mount("test/mounted@" + rev1, "r1", "--read-only");
        Path r2 = mount("test/mounted@" + rev2, "r2", "--read-only");
        for (int w = 0; w < writers; w++) {
            byte[] all = full(w, written[w]);
            assertTrue(Arrays.equals(all, Files.readAllBytes(r2.resolve("w" + w + ".bin"))), "w" + w + " in rev2");
            assertTrue(Arrays.equals(all, Files.readAllBytes(mnt.resolve("w" + w + ".bin"))), "w" + w + " in the mount");
            Path in1 = r1.resolve("w" + w + ".bin");
            if (Files.exists(in1)) {
                byte[] part = Files.readAllBytes(in1);
                assertTrue(part.length % 4096 == 0 && Arrays.equals(part, Arrays.copyOf(all, part.length)),
                        "rev1 holds whole writes of w" + w + " (" + part.length + " bytes)");
            }
        }
    }

    static byte[] chunk(int writer, int c) {
        byte[] b = new byte[4096];
        Arrays.fill(b, (byte) (writer * 31 + c));
        return b;
    }

    static byte[] full(int writer, int chunks) {
        byte[] all = new byte[4096 * chunks];
        for (int c = 0; c < chunks; c++) {
            System.arraycopy(chunk(writer, c), 0, all, c * 4096, 4096);
        }
        return all;
    }

    @Test
    void pullThroughTheMountKeepsLocalEdits() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Files.writeString(mnt.resolve("mine.txt"), "local\n");
        f.write("notes.txt", "changed remotely\n");
        Files.delete(f.src.resolve("README.md"));
        f.build();
        Tool.Result r = cli("pull", mnt.toString()).ok();
        assertTrue(r.out().contains(f.topHash), r.out());
        assertEquals("changed remotely\n", Files.readString(mnt.resolve("notes.txt")));
        assertTrue(Files.notExists(mnt.resolve("README.md")));
        assertEquals("local\n", Files.readString(mnt.resolve("mine.txt")));
        JsonNode st = Json.parse(cli("--json", "status", "test/mounted").ok().out());
        assertEquals("[\"mine.txt\"]", st.path("added").toString(), st.toString());
        assertEquals(0, st.path("modified").size() + st.path("removed").size(), st.toString());
    }

    @Test
    void pullThroughTheMountRefusesAKeyChangedOnBothSides() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Files.writeString(mnt.resolve("notes.txt"), "changed here\n");
        f.write("notes.txt", "changed remotely\n");
        f.build();
        Tool.Result r = cli("pull", mnt.toString());
        assertEquals(3, r.exit(), r.toString());
        assertTrue((r.err() + r.out()).contains("notes.txt"), r.toString());
        assertEquals("changed here\n", Files.readString(mnt.resolve("notes.txt")), "the local edit is untouched");
        JsonNode st = Json.parse(cli("--json", "status", "test/mounted").ok().out());
        assertEquals("[\"notes.txt\"]", st.path("modified").toString(), st.toString());
    }

    @Test
    void pullThroughTheMountRefusesAFileOpenForWriting() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        f.write("notes.txt", "changed remotely\n");
        f.build();
        try (FileChannel w = FileChannel.open(mnt.resolve("notes.txt"), java.nio.file.StandardOpenOption.WRITE)) {
            Tool.Result r = cli("pull", mnt.toString());
            assertEquals(3, r.exit(), r.toString());
            assertTrue((r.err() + r.out()).contains("'notes.txt' is open for writing through the mount"), r.toString());
            assertEquals("alpha\nbeta\n", Files.readString(mnt.resolve("notes.txt")), "nothing was changed");
            w.write(ByteBuffer.wrap("ALPHA".getBytes(StandardCharsets.UTF_8)), 0);
        }
        assertEquals("ALPHA\nbeta\n", Files.readString(mnt.resolve("notes.txt")), "the write is in the file");
        Tool.Result again = cli("pull", mnt.toString());
        assertEquals(3, again.exit(), "now a local change: " + again);
        Files.writeString(mnt.resolve("notes.txt"), "alpha\nbeta\n"); // undone: the row's bytes again
        cli("pull", mnt.toString()).ok();
        assertEquals("changed remotely\n", Files.readString(mnt.resolve("notes.txt")));
    }

    /**
     * open(2) with O_CREAT and O_RDONLY makes a file and reads it: that descriptor is not open
     * for writing, so a pull changes the file under it (its reader then reads the new bytes).
     */
    @Test
    void aFileCreatedForReadingDoesNotHoldUpAPull() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Process holder = new ProcessBuilder("python3", "-c", String.join("\n",
                "import os, sys",
                "fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDONLY, 0o644)",
                "print('open', flush=True)",
                "sys.stdin.read()",
                "print(os.pread(fd, 100, 0).decode(), end='')"), mnt.resolve("made.txt").toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(
                    new java.io.InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("open", out.readLine());
            cli("commit", mnt.toString(), "-m", "made").ok();
            cli("push", mnt.toString()).ok();
            f.write("made.txt", "remote\n");
            f.build();
            cli("pull", mnt.toString()).ok();
            holder.getOutputStream().close();
            assertEquals("remote\n", new String(holder.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, holder.exitValue());
        } finally {
            holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        assertEquals("remote\n", Files.readString(mnt.resolve("made.txt")));
    }

    @Test
    void onlyTheMountingUserReachesTheControlFiles() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Tool.sh("cat " + q(mnt) + "/.quiltfs/status").ok();
        // Let another user walk to the mount point, and prove it can: it reads a file beside it.
        for (Path d = mnt.getParent(); d != null && d.getNameCount() > 0; d = d.getParent()) {
            Tool.sh("chmod o+x " + q(d)).ok();
        }
        Path beside = mnt.resolveSibling("beside.txt");
        Files.writeString(beside, "readable\n");
        Tool.sh("chmod o+r " + q(beside)).ok();
        assertEquals("readable\n", Tool.sh("setpriv --reuid=65534 --regid=65534 --clear-groups cat " + q(beside))
                .ok().out());
        // Another user (nobody) is turned away by the kernel at the mount: it is not shared.
        Tool.Result other = Tool.sh("setpriv --reuid=65534 --regid=65534 --clear-groups cat " + q(mnt)
                + "/.quiltfs/status; echo \"exit=$?\"");
        assertTrue(other.out().contains("exit=1"), other.toString());
        assertTrue(other.err().contains("Permission denied"), other.toString());
        Tool.Result write = Tool.sh("setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'echo push > "
                + q(mnt) + "/.quiltfs/ctl'; echo \"exit=$?\"");
        assertTrue(write.out().contains("exit=1") || write.out().contains("exit=2"), write.toString());
    }

    @Test
    void aRenamedRowKeepsItsMetadata() throws Exception {
        setUp(TestRegistries.LOCAL);
        // A revision whose notes.txt row carries metadata, as quilt3 users give files.
        io.quiltfs.store.manifest.Manifest m = f.registry.readManifest(f.topHash);
        io.quiltfs.store.manifest.Manifest.Builder b = m.toBuilder().clearEntries();
        JsonNode meta = Json.parse("{\"user_meta\":{\"owner\":\"ana\"},\"format\":\"txt\"}");
        for (io.quiltfs.store.manifest.Entry e : m.entries()) {
            b.add(e.logicalKey().equals("notes.txt")
                    ? new io.quiltfs.store.manifest.Entry(e.logicalKey(), e.physicalKey(), e.size(), e.hash(), meta, null)
                    : e);
        }
        String top = f.registry.writeManifest(b.build());
        Path mnt = mount("test/mounted@" + top, "mnt");
        Tool.sh("mkdir " + q(mnt) + "/docs && mv " + q(mnt) + "/notes.txt " + q(mnt) + "/docs/notes.txt").ok();
        String rev = cli("commit", mnt.toString(), "-m", "moved").ok().out().lines().findFirst().orElseThrow().trim();
        io.quiltfs.store.manifest.Manifest after = io.quiltfs.store.manifest.ManifestReader.read(
                new io.quiltfs.store.state.Home(f.home).installedManifest(Fixture.PKG, rev));
        assertEquals(null, after.get("notes.txt"));
        assertEquals(meta, after.get("docs/notes.txt").meta(), "the metadata moved with the file");
        assertEquals(m.get("notes.txt").hash(), after.get("docs/notes.txt").hash());
    }

    @Test
    void symlinksHardLinksAndSpecialFilesAreRefused() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        assertTrue(Tool.run("ln", "-s", "README.md", mnt.resolve("l").toString()).err().contains("Operation not permitted"));
        assertTrue(Tool.run("ln", mnt.resolve("README.md").toString(), mnt.resolve("h").toString()).err()
                .contains("Operation not permitted"));
        assertTrue(Tool.run("mkfifo", mnt.resolve("p").toString()).err().contains("Operation not permitted"));
        assertTrue(Tool.run("rmdir", mnt.resolve("data").toString()).err().contains("not empty"));
        Tool.run("chmod", "+x", mnt.resolve("README.md").toString()).ok();
        assertTrue(Tool.run("ls", "-l", mnt.resolve("README.md").toString()).ok().out().startsWith("-rwx"));
        Tool.Result un = cli("unmount", mnt.toString()).ok();
        assertTrue(un.out().contains("kept the working area"), un.out());
    }

    java.util.Set<String> committedKeys(String top) throws Exception {
        io.quiltfs.store.manifest.Manifest m = io.quiltfs.store.manifest.ManifestReader.read(
                new io.quiltfs.store.state.Home(f.home).installedManifest(Fixture.PKG, top));
        java.util.Set<String> keys = new java.util.TreeSet<>();
        m.entries().forEach(e -> keys.add(e.logicalKey()));
        return keys;
    }

    @Test
    void aFileReplacedByAFolderIsNotCommittedAgain() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        String M = q(mnt);
        Tool.sh("rm " + M + "/README.md && mkdir " + M + "/README.md"
                + " && rm " + M + "/notes.txt && mkdir " + M + "/notes.txt && echo in > " + M + "/notes.txt/inside.txt").ok();
        String res = Tool.sh("echo 'commit -m folders' > " + M + "/.quiltfs/ctl && cat " + M + "/.quiltfs/ctl").ok().out();
        assertTrue(res.trim().endsWith("exit 0"), res);
        java.util.Set<String> keys = committedKeys(res.lines().findFirst().orElseThrow().trim());
        assertTrue(keys.contains("notes.txt/inside.txt"), keys.toString());
        assertTrue(!keys.contains("notes.txt") && !keys.contains("README.md"),
                "the removed files stay removed: " + keys);
        assertTrue(Files.isDirectory(mnt.resolve("README.md")), "the empty folder stays in the mount");
    }

    @Test
    void aReaderOfAnUnchangedFileSeesWhatAnotherProcessWrites() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        // Python opens for reading, then another process appends and truncates: one file, one content.
        String py = String.join("\n",
                "import os, subprocess, sys",
                "m = sys.argv[1]",
                "r = open(m + '/notes.txt', 'rb')",
                "subprocess.run(['sh', '-c', 'echo gamma >> ' + m + '/notes.txt'], check=True)",
                "print(r.read().decode().replace(chr(10), '|'))",
                "t = open(m + '/README.md', 'rb')",
                "subprocess.run(['truncate', '-s', '3', m + '/README.md'], check=True)",
                "print(t.read().decode())");
        Path script = f.scratch.resolve("reader.py");
        Files.writeString(script, py);
        String out = Tool.run("python3", script.toString(), mnt.toString()).ok().out();
        assertEquals("alpha|beta|gamma|\n# a\n", out);
    }

    @Test
    void namesThatAreNotUtf8AreRefusedNotMerged() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        // Latin-1 names: r\xe9sum\xe9 and r\xe8sum\xe8 were both taken for r\ufffdsum\ufffd, one file.
        String py = String.join("\n",
                "import os, sys, errno",
                "m = os.fsencode(sys.argv[1])",
                "for n in (b'r\\xe9sum\\xe9.txt', b'r\\xe8sum\\xe8.txt', b'caf\\xc3\\xa9.txt'):",
                "    try:",
                "        open(m + b'/' + n, 'wb').write(n)",
                "        print('created')",
                "    except OSError as e:",
                "        print(errno.errorcode[e.errno])",
                "print(sorted(x for x in os.listdir(m) if x.startswith((b'r', b'caf'))))");
        Path script = f.scratch.resolve("names.py");
        Files.writeString(script, py);
        String out = Tool.run("python3", script.toString(), mnt.toString()).ok().out();
        assertEquals("EINVAL\nEINVAL\ncreated\n[b'caf\\xc3\\xa9.txt']\n", out);

        // A name over 255 bytes is too long to look up too, as on a local disk (not "no such file").
        String py2 = String.join("\n",
                "import os, sys, errno",
                "for p in ('é' * 128, 'a' * 256 + '/x', 'a' * 255):",
                "    for op in (os.stat, os.unlink):",
                "        try:",
                "            op(os.path.join(sys.argv[1], p))",
                "        except OSError as e:",
                "            print(errno.errorcode[e.errno])");
        assertEquals("ENAMETOOLONG\nENAMETOOLONG\nENAMETOOLONG\nENAMETOOLONG\nENOENT\nENOENT\n",
                Tool.run("python3", "-c", py2, mnt.toString()).ok().out());
    }

    @Test
    void modificationTimesSetWithoutTheAccessTimeAreKept() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        String M = q(mnt);
        Path tree = makeTree();
        Tool.sh("touch -d 2020-01-02T03:04:05Z " + q(tree) + "/t1.txt && tar -C " + q(tree) + " -cf "
                + q(f.scratch.resolve("m.tar")) + " t1.txt").ok();
        // touch -m and tar -x change the mtime alone (the access time is UTIME_OMIT).
        Tool.sh("echo x > " + M + "/new.txt && touch -m -d 2021-05-06T07:08:09Z " + M + "/new.txt"
                + " && touch -m -d 2021-05-06T07:08:09Z " + M + "/notes.txt"
                + " && tar -C " + M + " -xf " + q(f.scratch.resolve("m.tar"))).ok();
        assertEquals("1620284889\n1620284889\n1577934245\n", Tool.sh("stat -c %Y " + M + "/new.txt " + M + "/notes.txt "
                + M + "/t1.txt").ok().out());
        Tool.sh("touch " + M + "/new.txt").ok(); // both times now
        long now = System.currentTimeMillis() / 1000;
        long m = Long.parseLong(Tool.sh("stat -c %Y " + M + "/new.txt").ok().out().trim());
        assertTrue(Math.abs(m - now) < 60, m + " vs " + now);
        assertEquals("alpha\nbeta\n", Files.readString(mnt.resolve("notes.txt")));

        // A time set on a file of the revision whose bytes stay the row's is kept after the close
        // (touch opens the file for writing; cp -p writes the same bytes and sets the time on its
        // descriptor), whole, not only in the kernel's cache: a remount shows it. A write after it makes
        // the same bytes the row again.
        Path same = f.scratch.resolve("same.csv");
        Files.writeString(same, "row,0,0\n");
        Tool.sh("touch -d 2012-03-04T05:06:07.123456789Z " + q(same) + " && cp -p " + q(same) + " " + M + "/data/dir0/file0.csv"
                + " && touch -d 2013-01-01T00:00:00Z " + M + "/data/dir0/file1.csv"
                + " && touch -d 2013-01-01T00:00:00Z " + M + "/data/dir0/file2.csv"
                + " && printf 'row,0,2\\n' > " + M + "/data/dir0/file2.csv").ok();
        Tool.Result un = cli("unmount", mnt.toString()).ok();
        assertTrue(!un.out().contains("uncommitted modifications") && un.out().contains("or given a time"), un.out());
        cli("mount", "test/mounted@" + f.topHash, mnt.toString(), "-r", f.uri).ok();
        String D = M + "/data/dir0/";
        assertEquals("1330837567\n1356998400\n1620284889\n", Tool.sh("stat -c %Y " + D + "file0.csv " + D + "file1.csv "
                + M + "/notes.txt").ok().out());
        assertEquals(Tool.sh("stat -c %Y " + M + "/README.md").ok().out(), Tool.sh("stat -c %Y " + D + "file2.csv").ok().out(),
                "a file written back with its row's bytes is the row again (the revision's time)");
        assertEquals("row,0,0\n", Files.readString(mnt.resolve("data/dir0/file0.csv")));
        assertEquals("2012-03-04 05:06:07.123456789 +0000\n", Tool.sh("TZ=UTC stat -c %y " + D + "file0.csv").ok().out(),
                "the time comes back to the nanosecond, as cp -p, tar and rsync set it");
        JsonNode st = Json.parse(cli("--json", "status", mnt.toString()).ok().out());
        assertEquals(0, st.path("modified").size() + st.path("removed").size(), "a time alone is no change: " + st);

        // Before 1970, whole seconds are kept.
        Tool.sh("touch -d 1960-01-01T00:00:00Z " + M + "/new.txt").ok();
        assertEquals("-315619200\n", Tool.sh("stat -c %Y " + M + "/new.txt").ok().out());
        // A time the working copy cannot hold is refused, not made another one: a fraction of a
        // second before 1970, after 2262, beyond what Java's time holds (not EIO); a folder
        // accepts any and keeps the revision's time.
        String before = Tool.sh("stat -c %y " + M + "/new.txt").ok().out();
        for (String t : List.of("1969-12-31T23:59:59.5Z", "2400-01-01T00:00:00Z", "@9223372036854775807",
                "@-9223372036854775807")) {
            Tool.Result r = Tool.sh("touch -d " + t + " " + M + "/new.txt");
            assertTrue(r.exit() != 0 && r.err().contains("Invalid argument"), t + ": " + r);
        }
        assertEquals(before, Tool.sh("stat -c %y " + M + "/new.txt").ok().out());
        String dir = Tool.sh("stat -c %y " + D).ok().out();
        Tool.sh("touch -d @9223372036854775807 " + D + " && touch -d 1969-12-31T23:59:59.5Z " + D).ok();
        assertEquals(dir, Tool.sh("stat -c %y " + D).ok().out());
    }

    /**
     * cp -p keeps the revision's time on every copy, and a mount copy keeps its inode through a
     * rewrite: size, mtime and inode cannot tell a copy's bytes apart. A status that hashed
     * file0.csv while it held file1.csv's bytes must not take that hash for the bytes put back
     * (a commit recorded the other file's bytes, and a remount showed them).
     */
    @Test
    void aCopyRewrittenWithTheSameSizeAndTimeIsHashedAgain() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        String D = q(mnt) + "/data/dir0/";
        String bak = q(f.scratch.resolve("file0.bak"));
        Tool.sh("cp -p " + D + "file0.csv " + bak + " && cp -p " + D + "file1.csv " + D + "file0.csv").ok();
        JsonNode st = Json.parse(cli("--json", "status", mnt.toString()).ok().out());
        assertTrue(st.path("modified").toString().contains("data/dir0/file0.csv"), st.toString());
        Tool.sh("cp -p " + bak + " " + D + "file0.csv").ok();
        assertEquals("row,0,0\n", Files.readString(mnt.resolve("data/dir0/file0.csv")));
        st = Json.parse(cli("--json", "status", mnt.toString()).ok().out());
        assertEquals(0, st.path("modified").size() + st.path("added").size() + st.path("removed").size(),
                "the row's bytes again (and a time): no change: " + st);
        // A commit (it records the copy kept for its time) and a remount show the bytes written last.
        Tool.sh("cp -p " + D + "file1.csv " + D + "file0.csv").ok();
        cli("--json", "status", mnt.toString()).ok();
        Tool.sh("cp -p " + bak + " " + D + "file0.csv && touch -d 2015-01-01T00:00:00Z " + D + "file2.csv").ok();
        cli("status", mnt.toString()).ok();
        cli("commit", mnt.toString(), "-m", "second").ok();
        cli("unmount", mnt.toString()).ok();
        cli("mount", "test/mounted", mnt.toString(), "-r", f.uri).ok();
        assertEquals("row,0,0\n", Files.readString(mnt.resolve("data/dir0/file0.csv")));
        assertEquals("row,0,1\n", Files.readString(mnt.resolve("data/dir0/file1.csv")));
        assertEquals("row,0,2\n", Files.readString(mnt.resolve("data/dir0/file2.csv")));
    }

    static String readAll(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1 << 16);
        long at = 0;
        while (b.hasRemaining()) {
            int n = ch.read(b, at);
            if (n <= 0) {
                break;
            }
            at += n;
        }
        return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
    }

    /**
     * A pull changes a file that other threads keep reading (reads in flight hold the kernel's
     * page locks that dropping its pages waits for): the pull answers, and the readers then
     * read the new bytes.
     */
    @Test
    void aPullChangesAFileUnderReadersInFlight() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        byte[] before = Files.readAllBytes(f.src.resolve("blob.bin"));
        byte[] after = new byte[before.length + 4096];
        new java.util.Random(4).nextBytes(after);
        assertTrue(Arrays.equals(before, Files.readAllBytes(mnt.resolve("blob.bin")))); // cached: pages kept
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        ExecutorService readers = Executors.newFixedThreadPool(3);
        List<Future<Long>> reads = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(mnt.resolve("blob.bin"))) {
            for (int i = 0; i < 3; i++) {
                reads.add(readers.submit(() -> {
                    ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
                    long n = 0;
                    while (!stop.get()) {
                        for (long at = 0; ch.read(b.clear(), at) > 0; at += b.position()) {
                            n++;
                        }
                    }
                    return n;
                }));
            }
            Files.write(f.src.resolve("blob.bin"), after);
            f.build();
            cli("pull", mnt.toString()).ok();
            stop.set(true);
            for (Future<Long> r : reads) {
                assertTrue(r.get(60, TimeUnit.SECONDS) > 0);
            }
            Thread.sleep(1500); // past the kernel's attribute timeout, whatever the drop did
            ByteBuffer all = ByteBuffer.allocate(after.length + 1);
            for (long at = 0; ch.read(all, at) > 0; at = all.position()) {
                // until end of file
            }
            assertEquals(after.length, all.position(), "the descriptor reads the new size");
            assertTrue(Arrays.equals(after, Arrays.copyOf(all.array(), all.position())), "and the new bytes");
        } finally {
            stop.set(true);
            readers.shutdownNow();
        }
        assertTrue(Arrays.equals(after, Files.readAllBytes(mnt.resolve("blob.bin"))));
    }

    @Test
    void aDescriptorOpenAcrossAPullSeesTheNewFileWhole() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        // Read once so that the object is cached: the next open lets the kernel keep its pages.
        assertEquals("alpha\nbeta\n", Files.readString(mnt.resolve("notes.txt")));
        assertEquals("row,0,0\n", Files.readString(mnt.resolve("data/dir0/file0.csv")));
        // A file written here and committed while open: the descriptor holds the working copy.
        Files.writeString(mnt.resolve("mine.txt"), "written here\n");
        try (FileChannel longer = FileChannel.open(mnt.resolve("notes.txt"));
             FileChannel same = FileChannel.open(mnt.resolve("data/dir0/file0.csv"));
             FileChannel mine = FileChannel.open(mnt.resolve("mine.txt"))) {
            assertEquals("alpha\nbeta\n", readAll(longer));
            assertEquals("row,0,0\n", readAll(same));
            assertEquals("written here\n", readAll(mine));
            cli("commit", mnt.toString(), "-m", "mine").ok();
            cli("push", mnt.toString()).ok();
            f.write("notes.txt", "changed remotely, and longer\n");
            f.write("data/dir0/file0.csv", "ROW,0,0\n"); // the same size
            f.write("mine.txt", "changed remotely\n");
            f.build();
            cli("pull", mnt.toString()).ok();
            // Past the kernel's attribute timeout, and a new descriptor reads the new bytes meanwhile.
            Thread.sleep(1500);
            assertEquals("ROW,0,0\n", Files.readString(mnt.resolve("data/dir0/file0.csv")));
            String l = readAll(longer);
            assertEquals(l.length(), longer.size(), "size and bytes agree: " + l);
            assertEquals("changed remotely, and longer\n", l);
            String s = readAll(same);
            assertEquals(s.length(), same.size(), "size and bytes agree: " + s);
            assertEquals("ROW,0,0\n", s);
            String m = readAll(mine);
            assertEquals(m.length(), mine.size(), "size and bytes agree: " + m);
            assertEquals("changed remotely\n", m);
        }
        // Once closed, the copies they read are the rows the pull brought: nothing is left to commit.
        JsonNode st = Json.parse(cli("--json", "status", "test/mounted").ok().out());
        assertEquals(0, st.path("added").size() + st.path("modified").size() + st.path("removed").size(), st.toString());
        Tool.Result un = cli("unmount", mnt.toString()).ok();
        assertTrue(!un.out().contains("kept the working area"), un.out());
    }

    @Test
    void aReaderFollowsItsFileAcrossARenameAndACommitNotTheName() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        String M = q(mnt);
        Path same = f.scratch.resolve("same.txt");
        Files.writeString(same, "alpha\nbeta\n"); // the bytes notes.txt had: the same hash
        try (FileChannel reader = FileChannel.open(mnt.resolve("notes.txt"))) {
            Tool.sh("mv " + M + "/notes.txt " + M + "/moved.txt && cp " + q(same) + " " + M + "/notes.txt").ok();
            String res = Tool.sh("echo 'commit -m moved' > " + M + "/.quiltfs/ctl && cat " + M + "/.quiltfs/ctl").ok().out();
            assertTrue(res.trim().endsWith("exit 0"), res);
            Tool.sh("echo gamma >> " + M + "/notes.txt && echo delta >> " + M + "/moved.txt").ok();
            assertEquals("alpha\nbeta\ndelta\n", readAll(reader), "the reader's file is the one now named moved.txt");
        }
    }

    @Test
    void aFileOpenedForWritingButLeftAsItWasIsNoChange() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        String M = q(mnt);
        Path copy = f.scratch.resolve("readme.copy");
        Tool.sh("python3 -c 'open(\"" + mnt.resolve("notes.txt") + "\", \"r+b\").close()'"
                + " && cp " + M + "/README.md " + q(copy) + " && cat " + q(copy) + " > " + M + "/README.md"
                + " && : >> " + M + "/data/dir0/file0.csv").ok();
        JsonNode st = Json.parse(cli("--json", "status", "test/mounted").ok().out());
        assertEquals(0, st.path("added").size() + st.path("modified").size() + st.path("removed").size(), st.toString());
        JsonNode ctl = Json.parse(Tool.run("cat", mnt.resolve(".quiltfs/status").toString()).ok().out());
        assertEquals(0, ctl.path("modified").size(), ctl.toString());
        Tool.Result un = cli("unmount", mnt.toString()).ok();
        assertTrue(!un.out().contains("kept the working area"), un.out());
    }

    @Test
    void aSecondEditableMountIsRefusedInOneLine() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Files.writeString(mnt.resolve("mine.txt"), "local\n");
        cli("commit", mnt.toString(), "-m", "local work").ok(); // the local head is no longer latest
        Path second = Files.createDirectories(f.scratch.resolve("second"));
        mounts.add(second);
        Tool.Result r = cli("mount", "test/mounted", second.toString(), "-r", f.uri);
        assertEquals(3, r.exit(), r.toString());
        assertEquals("", r.out(), "nothing before the refusal");
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("already mounted for editing") && r.err().contains(mnt.toString()), r.err());
        assertTrue(MountTable.at(second) == null, "nothing mounted");
    }

    /**
     * {@code quiltfs commit .} in a folder of the mount (as in a git working tree): one line naming
     * the mount point to give instead, exit 2, nothing committed. It used to say the folder was "not
     * a quiltfs mount now (a mount whose process ended is gone ...)" or, for a relative path that
     * reads as a package name ({@code mnt/data}), to install that package. A symbolic link to the
     * mount point is the mount.
     */
    @Test
    void aFolderInsideTheMountNamesItsMountPoint() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Files.writeString(mnt.resolve("data/dir0/file0.csv"), "changed\n");
        List<Tool.Result> tries = List.of(
                cli("commit", mnt.resolve("data").toString(), "-m", "from a folder"),
                cli("status", mnt.resolve("data/dir0/file0.csv").toString()),
                run(mnt.resolve("data/dir0"), "push", "."),
                run(f.scratch, "commit", "mnt/data", "-m", "a relative folder"));
        for (Tool.Result r : tries) {
            assertEquals(2, r.exit(), r.toString());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains("inside the quiltfs mount at " + mnt.toRealPath()), r.err());
        }
        // A symbolic link to the mount point is the mount (it used to read as a mount whose process ended).
        Path link = Files.createSymbolicLink(f.scratch.resolve("link"), mnt);
        JsonNode st = Json.parse(cli("--json", "status", link.toString()).ok().out());
        assertEquals("[\"data/dir0/file0.csv\"]", st.path("modified").toString(), "nothing was committed");
        assertEquals(0, st.path("unpushed").size(), st.toString());

        // A bind mount of a folder of the mount has no .quiltfs either: it used to read as a read-only mount.
        Path bound = Files.createDirectories(f.scratch.resolve("bound"));
        Tool.run("mount", "--bind", mnt.resolve("data").toString(), bound.toString()).ok();
        try {
            Tool.Result r = cli("status", bound.toString());
            assertEquals(2, r.exit(), r.toString());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains(bound + " is a bind mount of the folder /data of a quiltfs mount")
                    && r.err().contains("`quiltfs status " + mnt.toRealPath() + "`"), r.err());
            assertTrue(!r.err().contains("read-only"), r.err());
        } finally {
            Tool.run("umount", bound.toString());
        }
    }

    /**
     * A relative package name that is also a folder of the mount one runs in says that no such
     * package is installed (it may have been meant as a name); the command it suggests is a shell
     * word (the mount point holds a space: it used to be pasted unquoted).
     */
    @Test
    void aNameThatIsAFolderOfTheMountSaysNoSuchPackage() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "m n");
        Files.createDirectories(mnt.resolve("t/nope"));
        Tool.Result r = run(mnt, "status", "t/nope");
        assertEquals(2, r.exit(), r.toString());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("t/nope is inside the quiltfs mount at " + mnt.toRealPath()
                + " (no package t/nope is installed in this home)"), r.err());
        assertTrue(r.err().contains("`quiltfs status '" + mnt.toRealPath() + "'`"), r.err());
    }

    /** One descriptor of ctl, as {@code exec 3<>ctl} gives a shell: each command's output in turn. */
    @Test
    void oneCtlDescriptorTakesCommandsInTurn() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Files.writeString(mnt.resolve("notes.txt"), "changed\n");
        try (FileChannel ch = FileChannel.open(mnt.resolve(".quiltfs/ctl"), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            List<String> outs = new ArrayList<>();
            for (String cmd : List.of("status", "commit -m 'in turn'", "status")) {
                ch.write(ByteBuffer.wrap((cmd + "\n").getBytes(StandardCharsets.UTF_8)));
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                ByteBuffer buf = ByteBuffer.allocate(1 << 16);
                while (ch.read(buf) > 0) {
                    out.write(buf.array(), 0, buf.position());
                    buf.clear();
                }
                outs.add(out.toString(StandardCharsets.UTF_8));
            }
            assertTrue(outs.get(0).contains("modified: notes.txt") && outs.get(0).endsWith("exit 0\n"), outs.get(0));
            assertTrue(outs.get(1).contains("committed test/mounted@") && outs.get(1).endsWith("exit 0\n"), outs.get(1));
            assertTrue(outs.get(2).contains("1 local commit not pushed") && !outs.get(2).contains("notes.txt")
                    && outs.get(2).endsWith("exit 0\n"), outs.get(2));

        }
        // A new descriptor's command, then read from the start (seek(0)) and in small pieces: the same
        // result, once. It used to give the tail (past the command's length) twice, and 8-byte reads
        // after a seek spliced it.
        try (FileChannel ch = FileChannel.open(mnt.resolve(".quiltfs/ctl"), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap("status --offline\n".getBytes(StandardCharsets.UTF_8)));
            ch.position(0);
            String whole = readAll(ch, 1 << 16);
            assertTrue(whole.contains("1 local commit not pushed") && whole.endsWith("exit 0\n")
                    && whole.indexOf("exit ") == whole.lastIndexOf("exit "), whole);
            ch.position(0);
            assertEquals(whole, readAll(ch, 8));
            ch.position(0);
            assertEquals(whole, readAll(ch, 1 << 16));
        }
    }

    /** The rest of {@code ch} from its position, read {@code chunk} bytes at a time. */
    static String readAll(FileChannel ch, int chunk) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(chunk);
        while (ch.read(buf) > 0) {
            out.write(buf.array(), 0, buf.position());
            buf.clear();
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * A descriptor that wrote nothing reads the last result as it was at its first read: another
     * process's command run while it reads in small pieces used to splice its result in.
     */
    @Test
    void aReaderOfTheLastResultIsNotSplicedByAnotherCommand() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Files.writeString(mnt.resolve("notes.txt"), "changed\n");
        Path ctl = mnt.resolve(".quiltfs/ctl");
        String first = Tool.run("sh", "-c", "echo 'status --offline' > " + q(ctl) + " && cat " + q(ctl)).ok().out();
        assertTrue(first.contains("modified: notes.txt") && first.endsWith("exit 0\n"), first);
        try (FileChannel ch = FileChannel.open(ctl, StandardOpenOption.READ)) {
            ByteBuffer head = ByteBuffer.allocate(8);
            ch.read(head);
            Files.writeString(ctl, "--json status --offline\n"); // another writer, between two reads
            assertEquals(first, new String(head.array(), 0, head.position(), StandardCharsets.UTF_8)
                    + readAll(ch, 8));
        }
        assertTrue(Tool.run("cat", ctl.toString()).ok().out().startsWith("{"), "a new reader sees the new result");
    }

    /**
     * A shell's shared descriptor ({@code exec 3<>ctl}) is flushed by each command writing to it: a
     * line not yet ended waits for the rest (it used to run {@code status}, then {@code --offline}
     * alone, a usage error).
     */
    @Test
    void aLineWrittenInPiecesOnASharedDescriptorRunsWhole() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Files.writeString(mnt.resolve("notes.txt"), "changed\n");
        String out = Tool.run("bash", "-c", "exec 3<>" + q(mnt.resolve(".quiltfs/ctl")) + "; /bin/echo -n 'status ' >&3;"
                + " /bin/echo --offline >&3; cat <&3").ok().out();
        assertTrue(out.contains("modified: notes.txt") && out.endsWith("exit 0\n")
                && out.indexOf("exit ") == out.lastIndexOf("exit "), out);
    }

    /**
     * {@code commit --meta-file meta.json} written to ctl runs in the mount's process, which does
     * not share the writer's current folder: it used to read a meta.json of the folder where
     * {@code quiltfs mount} ran and commit that metadata silently. A relative path is refused;
     * an absolute one, and the CLI's form (which reads the file itself), work.
     */
    @Test
    void aRelativeMetaFileWrittenToCtlIsRefused() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mountedFrom = Files.createDirectories(f.scratch.resolve("mounted-from"));
        Files.writeString(mountedFrom.resolve("meta.json"), "{\"from\": \"the mount's folder\"}");
        Path mp = Files.createDirectories(f.scratch.resolve("mnt"));
        mounts.add(mp);
        run(mountedFrom, "mount", "test/mounted@" + f.topHash, mp.toString(), "-r", f.uri).ok();
        Path mine = Files.createDirectories(f.scratch.resolve("mine"));
        Files.writeString(mine.resolve("meta.json"), "{\"from\": \"mine\"}");
        Files.writeString(mp.resolve("notes.txt"), "changed\n");

        Tool.Result r = Tool.run(mine, "sh", "-c", "echo 'commit -m m --meta-file meta.json' > " + q(mp)
                + "/.quiltfs/ctl && cat " + q(mp) + "/.quiltfs/ctl").ok();
        assertTrue(r.out().endsWith("exit 2\n") && r.out().contains("--meta-file through .quiltfs/ctl takes an"
                + " absolute path ('meta.json' is relative"), r.out());
        JsonNode st = Json.parse(cli("--json", "status", mp.toString()).ok().out());
        assertEquals(0, st.path("unpushed").size(), "nothing was committed: " + st);

        // An @file is not expanded by the mount (it would read the mount's folder): `@opts` is a word.
        Files.writeString(mountedFrom.resolve("opts"), "--meta-file meta.json\n");
        r = Tool.run(mine, "sh", "-c", "echo 'commit -m viaat @opts' > " + q(mp) + "/.quiltfs/ctl && cat " + q(mp)
                + "/.quiltfs/ctl").ok();
        assertTrue(!r.out().endsWith("exit 0\n") && r.out().contains("@opts"), r.out());
        st = Json.parse(cli("--json", "status", mp.toString()).ok().out());
        assertEquals(0, st.path("unpushed").size(), "nothing was committed: " + st);

        String top = run(mine, "commit", mp.toString(), "-m", "m", "--meta-file", "meta.json").ok().out().lines()
                .findFirst().orElseThrow().trim();
        Path manifest = f.home.resolve(".quilt/installed/test/mounted/" + top);
        assertTrue(Files.readAllLines(manifest).get(0).contains("\"user_meta\":{\"from\":\"mine\"}"),
                Files.readAllLines(manifest).get(0));

        // `-m @release` with no file release where the CLI runs: the message is "@release", not the
        // mount's folder's file.
        Files.writeString(mountedFrom.resolve("release"), "the mount's folder\n");
        Files.writeString(mp.resolve("notes.txt"), "changed again\n");
        top = run(mine, "commit", mp.toString(), "-m", "@release").ok().out().lines().findFirst().orElseThrow().trim();
        manifest = f.home.resolve(".quilt/installed/test/mounted/" + top);
        assertTrue(Files.readAllLines(manifest).get(0).contains("\"message\":\"@release\""),
                Files.readAllLines(manifest).get(0));
    }

    /**
     * A verb given a read-only mount says where the package is edited: its live editable mount, or
     * the folder it is installed in (what makes a mount read-only without --read-only). It used to
     * say "mount the package without --read-only", which is refused in both cases.
     */
    @Test
    void aVerbOnAReadOnlyMountNamesWhereThePackageIsEdited() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Path ro = mount("test/mounted@" + f.topHash, "ro", "--read-only");
        Tool.Result r = cli("commit", ro.toString(), "-m", "x");
        assertEquals(3, r.exit(), r.toString());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("is mounted for editing at " + mnt) && r.err().contains("`quiltfs commit " + mnt
                + "`"), r.err());

        Path home2 = f.scratch.resolve("home2");
        Path dest = f.scratch.resolve("installed");
        cliIn(home2, "install", "test/mounted@" + f.topHash, "-r", f.uri, "--dest", dest.toString()).ok();
        Path ro2 = Files.createDirectories(f.scratch.resolve("ro2"));
        mounts.add(ro2);
        cliIn(home2, "mount", "test/mounted@" + f.topHash, ro2.toString(), "-r", f.uri).ok();
        r = cliIn(home2, "status", ro2.toString());
        assertEquals(3, r.exit(), r.toString());
        assertTrue(r.err().contains("test/mounted is installed in " + dest) && r.err().contains(
                "`quiltfs status test/mounted`"), r.err());

        // Another home's mount: this home's installs and mounts say nothing about it.
        r = cli("status", ro2.toString());
        assertEquals(3, r.exit(), r.toString());
        assertTrue(r.err().contains("is read-only: it has no .quiltfs/ctl") && !r.err().contains(mnt.toString()),
                r.err());
        r = cliIn(home2, "commit", ro.toString(), "-m", "x");
        assertEquals(3, r.exit(), r.toString());
        assertTrue(r.err().contains("is read-only: it has no .quiltfs/ctl") && !r.err().contains(dest.toString()),
                r.err());
        cliIn(home2, "unmount", ro2.toString()).ok();
    }

    /**
     * A command written without a newline ({@code printf}) runs at the descriptor's release, which
     * the kernel sends after {@code close} has returned: a reader right after it gets its result
     * (it waits for the release), not the one before.
     */
    @Test
    void aCommandWithoutANewlineIsReadRightAfter() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        String c = q(mnt.resolve(".quiltfs/ctl"));
        for (int i = 0; i < 4; i++) {
            String cmd = i % 2 == 0 ? "status --offline" : "--json status --offline";
            String out = Tool.run("sh", "-c", "printf %s '" + cmd + "' > " + c + "; cat " + c).ok().out();
            assertTrue(out.endsWith("exit 0\n") && out.startsWith("{") == (i % 2 == 1), cmd + ": " + out);
        }
    }

    /** The CLI run in the folder {@code dir}. */
    Tool.Result run(Path dir, String... args) throws Exception {
        return Tool.run(dir, Tool.quiltfs(f.home, args).toArray(new String[0]));
    }
    @Test
    void statusNamesTheCopiesADamagedJournalNoLongerNames() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        Files.writeString(mnt.resolve("mine.txt"), "saved edit\n");
        cli("unmount", mnt.toString()).ok();
        Path area = f.home.resolve("mounts/areas/test/mounted");
        Files.writeString(area.resolve("journal"), "not a journal line\n"); // damaged by hand
        cli("mount", "test/mounted", mnt.toString(), "-r", f.uri).ok();
        Path kept = area.resolve("unjournaled");
        JsonNode ctl = Json.parse(Tool.run("cat", mnt.resolve(".quiltfs/status").toString()).ok().out());
        assertEquals(kept.toString(), ctl.path("unjournaled").path("path").asText(), ctl.toString());
        assertEquals(1, ctl.path("unjournaled").path("files").asInt(), ctl.toString());
        String text = cli("status", "test/mounted").ok().out();
        assertTrue(text.contains("unjournaled: 1 copy of saved edits in " + kept), text);
        try (java.util.stream.Stream<Path> s = Files.list(kept)) {
            assertEquals("saved edit\n", Files.readString(s.findFirst().orElseThrow()));
        }
        cli("unmount", mnt.toString()).ok();
        Fixture.deleteTree(kept); // what README says to do once what was needed is copied back
        assertTrue(!cli("status", "test/mounted", "--offline").ok().out().contains("unjournaled"));
    }

    @Test
    void whatWasFsyncedAndIsStillOpenSurvivesAKillOfTheMount() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path mnt = mount("test/mounted@" + f.topHash, "mnt");
        // Written and fsync'ed through the mount, never closed: the kill comes while both are open.
        String py = String.join("\n",
                "import os, sys, time",
                "m = sys.argv[1]",
                "n = os.open(m + '/new.bin', os.O_WRONLY | os.O_CREAT, 0o644)",
                "os.write(n, b'synced bytes')",
                "os.fsync(n)",
                "e = os.open(m + '/notes.txt', os.O_RDWR)",
                "os.pwrite(e, b'ALPHA', 0)",
                "os.fdatasync(e)",
                "print('synced', flush=True)",
                "time.sleep(120)");
        Path script = f.scratch.resolve("fsync.py");
        Files.writeString(script, py);
        Process writer = new ProcessBuilder("python3", script.toString(), mnt.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String line = new java.io.BufferedReader(new java.io.InputStreamReader(writer.getInputStream(),
                    StandardCharsets.UTF_8)).readLine();
            assertEquals("synced", line);
            Tool.run("kill", "-9", Long.toString(daemonPid())).ok();
        } finally {
            writer.destroyForcibly();
            writer.waitFor(30, TimeUnit.SECONDS);
        }
        JsonNode st = Json.parse(cli("--json", "status", "test/mounted", "--offline").ok().out());
        assertEquals("[\"new.bin\"]", st.path("added").toString(), st.toString());
        assertEquals("[\"notes.txt\"]", st.path("modified").toString(), st.toString());
        for (int i = 0; i < 100 && MountTable.at(mnt) != null && !FuseMount.isStale(mnt); i++) {
            Thread.sleep(50);
        }
        cli("mount", "test/mounted", mnt.toString(), "-r", f.uri).ok();
        assertEquals("synced bytes", Files.readString(mnt.resolve("new.bin")));
        assertEquals("ALPHA\nbeta\n", Files.readString(mnt.resolve("notes.txt")));
    }

    /**
     * A pull through a live editing mount stopped half-way (the mount's process killed while the
     * pull places files), the package mounted again and read with ls and cat (the kernel now holds
     * the pull's names and contents, and no README.md), then `pull --abandon` written to
     * `.quiltfs/ctl` and the files looked at in the same shell, within the second the kernel may
     * keep a name: the mount shows the head's files again, byte for byte (only because the abandon
     * dropped the names from the kernel, with no notification failing), and nothing is left to
     * commit or abandon.
     */
    @Test
    void abandonThroughALiveMountShowsTheHeadsFilesAgain() throws Exception {
        setUp(TestRegistries.LOCAL);
        String head = f.topHash;
        Path before = f.scratch.resolve("head-tree");
        Tool.run("cp", "-r", f.src.toString(), before.toString()).ok();
        Path paused = f.scratch.resolve("paused");
        env = Map.of("QUILTFS_TEST_PAUSE_AT", "pull.placing", "QUILTFS_TEST_PAUSE_FILE", paused.toString());
        Path mnt = mount("test/mounted@" + head, "mnt");
        env = Map.of();
        f.write("notes.txt", "ALPHA\nBETA\n"); // the same size: only the content tells it
        Files.delete(f.src.resolve("README.md"));
        for (int i = 0; i < 8; i++) {
            f.write("added/new" + i + ".txt", "added " + i + "\n");
        }
        f.build();
        String target = f.topHash;

        Process pull = new ProcessBuilder(Tool.quiltfs(f.home, "pull", mnt.toString()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            for (int i = 0; i < 1200 && !Files.exists(paused); i++) {
                assertTrue(pull.isAlive() || Files.exists(paused), "the pull ended before it placed a file");
                Thread.sleep(50);
            }
            assertTrue(Files.exists(paused), "the pull did not reach its first placed file");
            Tool.run("kill", "-9", Long.toString(daemonPid())).ok();
            assertTrue(pull.waitFor(60, TimeUnit.SECONDS), "the CLI waiting on the killed mount returned");
        } finally {
            pull.destroyForcibly();
        }
        for (int i = 0; i < 100 && MountTable.at(mnt) != null && !FuseMount.isStale(mnt); i++) {
            Thread.sleep(50);
        }
        cli("mount", "test/mounted", mnt.toString(), "-r", f.uri).ok();
        JsonNode st = Json.parse(cli("--json", "status", mnt.toString()).ok().out());
        assertEquals(target, st.path("pull_unfinished").asText(), st.toString());

        // Read what the stopped pull left, so that the kernel caches it (names, contents, a name
        // gone), then abandon through the control file and look again, all in one shell: well
        // within the second an editable mount lets the kernel keep a name, so only the names the
        // abandon drops from the kernel show its files.
        String m = q(mnt);
        Tool.Result seen = Tool.sh("ls -laR " + m + " > /dev/null; cat " + m + "/notes.txt " + m + "/added/* > /dev/null"
                + " 2>&1; if cat " + m + "/README.md > /dev/null 2>&1; then echo README-present; fi;"
                + " echo 'pull --abandon' > " + m + "/.quiltfs/ctl; cat " + m + "/.quiltfs/ctl; echo ---;"
                + " cat " + m + "/notes.txt; cat " + m + "/README.md; ls " + m + "; if cat " + m + "/added/new0.txt"
                + " > /dev/null 2>&1; then echo added-present; fi; true").ok();
        String[] parts = seen.out().split("---\n", 2);
        assertEquals(2, parts.length, seen.out() + seen.err());
        assertTrue(!parts[0].contains("README-present"), "the pull removed it: " + seen.out());
        assertTrue(parts[0].contains("abandoned the pull of test/mounted to " + target) && parts[0].endsWith("exit 0\n"),
                seen.out());
        assertTrue(parts[1].startsWith("alpha\nbeta\n# a package\n"), seen.out() + seen.err());
        assertTrue(!parts[1].contains("added"), "the pull's folder and files are gone: " + seen.out());
        String log = Files.readString(Path.of(Json.parse(Files.readString(recordOf(mnt))).path("log").asText()));
        assertTrue(!log.contains("dropping the kernel's"), "a notification failed: " + log);

        Tool.Result abandon = cli("pull", mnt.toString(), "--abandon");
        assertEquals(0, abandon.exit(), abandon.out() + abandon.err());
        assertTrue(abandon.out().contains("nothing to abandon"), abandon.out());

        assertEquals("", Tool.run("diff", "-r", "-x", ".quiltfs", before.toString(), mnt.toString()).ok().out());
        assertEquals("alpha\nbeta\n", Tool.run("cat", mnt.resolve("notes.txt").toString()).ok().out());
        assertEquals("# a package\n", Tool.run("cat", mnt.resolve("README.md").toString()).ok().out());
        assertTrue(Tool.run("cat", mnt.resolve("added/new0.txt").toString()).exit() != 0);
        st = Json.parse(cli("--json", "status", mnt.toString()).ok().out());
        assertTrue(st.path("pull_unfinished").isNull(), st.toString());
        assertEquals(0, st.path("added").size() + st.path("modified").size() + st.path("removed").size(),
                st.toString());
        assertEquals("Behind", st.path("state").asText(), st.toString());
        Tool.Result un = cli("unmount", mnt.toString()).ok();
        assertTrue(!un.out().contains("kept uncommitted"), un.out());
    }
}
