package io.quiltfs.fs;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.workflow.Build;
import io.quiltfs.store.workflow.Progress;
import io.quiltfs.store.workflow.WorkingFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The write paths of the core (copy-on-write, the tree's changes, the journal, snapshots), without FUSE. */
class PackageFsWriteTest {
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_APPEND_FLAG = 02000;

    @TempDir
    Path tmp;

    LocalRegistry registry;
    Manifest manifest;
    Home home;
    PackageFs fs;
    final PackageName pkg = PackageName.parse("test/pkg");

    @BeforeEach
    void setUp() throws IOException {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("README.md"), "hello\n");
        Files.createDirectories(src.resolve("data/sub"));
        Files.writeString(src.resolve("data/a.csv"), "x,y\n1,2\n");
        Files.writeString(src.resolve("data/sub/b.txt"), "deep\n");
        Files.write(src.resolve("big.bin"), new byte[3 << 20]);
        registry = new LocalRegistry(tmp.resolve("registry"));
        var res = Build.build(registry, pkg, src, "msg", Json.parse("{}"), HashType.SHA2_256_CHUNKED,
                Clock.systemUTC(), Progress.NONE);
        manifest = registry.readManifest(res.topHash());
        home = new Home(tmp.resolve("home"));
        fs = open();
    }

    PackageFs open() throws IOException {
        ObjectStore store = new ObjectStore(new ObjectCache(home), CacheBudget.open(home, 1L << 30), k -> registry, 5_000);
        WorkArea area = WorkArea.open(home.mountArea(pkg), top -> manifest);
        return new PackageFs(manifest, pkg, manifest.topHash(), 1_700_000_000L, store, area);
    }

    @AfterEach
    void tearDown() {
        fs.close();
    }

    String read(String path) throws IOException {
        long h = fs.open(path, 0);
        try {
            ByteBuffer b = ByteBuffer.allocate(1 << 16);
            int n = fs.read(h, 0, b);
            return new String(b.array(), 0, n, StandardCharsets.UTF_8);
        } finally {
            fs.release(h);
        }
    }

    void write(String path, long offset, String s) throws IOException {
        long h = fs.open(path, O_WRONLY);
        try {
            fs.write(h, offset, ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
        } finally {
            fs.flush(h);
            fs.release(h);
        }
    }

    void create(String path, String s) throws IOException {
        long h = fs.create(path, 0644);
        fs.write(h, 0, ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
        fs.release(h);
    }

    List<String> ls(String path) throws IOException {
        List<String> out = new ArrayList<>();
        fs.readdir(path, (name, dir) -> out.add(name + (dir ? "/" : "")));
        return out;
    }

    Errno errno(Executable e) {
        return assertThrows(FsException.class, e::run).errno();
    }

    interface Executable {
        void run() throws Exception;
    }

    /**
     * An fsync of a folder makes the tree's last changes durable (the journal is forced), as on a
     * local disk after a rename: before, libfuse answered ENOSYS and the kernel called it done.
     */
    @Test
    void anFsyncOfAFolderForcesTheJournal() throws IOException {
        create("/new.tmp", "saved\n");
        fs.rename("/new.tmp", "/README.md");
        long before = fs.area().journalSyncs();
        fs.fsyncdir();
        assertEquals(before + 1, fs.area().journalSyncs());
        // Nothing new in the journal: no second force (it holds the lock every tree change waits for).
        fs.fsyncdir();
        assertEquals(before + 1, fs.area().journalSyncs());
        fs.rename("/README.md", "/README.txt");
        fs.fsyncdir();
        assertEquals(before + 2, fs.area().journalSyncs());
    }

    @Test
    void copyOnWriteKeepsOtherFilesOnTheRevision() throws IOException {
        write("/README.md", 6, "more\n");
        assertEquals("hello\nmore\n", read("/README.md"));
        assertEquals(11, fs.getattr("/README.md").size());
        assertTrue(fs.area().node("README.md") instanceof WorkArea.Content);
        assertNull(fs.area().node("data/a.csv"), "an unchanged file keeps being served from the object cache");
        assertEquals(0644, fs.getattr("/data/a.csv").mode());
    }

    @Test
    void openWithTruncateFetchesNothing() throws IOException {
        long h = fs.open("/big.bin", O_WRONLY | PackageFs.O_TRUNC);
        fs.write(h, 0, ByteBuffer.wrap("new".getBytes(StandardCharsets.UTF_8)));
        fs.release(h);
        assertEquals("new", read("/big.bin"));
        assertFalse(new ObjectCache(home).exists(manifest.get("big.bin").hash()), "O_TRUNC does not fetch the object");
    }

    @Test
    void truncateAndFtruncate() throws IOException {
        fs.truncate("/data/a.csv", 3);
        assertEquals("x,y", read("/data/a.csv"));
        long h = fs.open("/data/a.csv", O_RDWR);
        fs.ftruncate(h, 1);
        fs.release(h);
        assertEquals("x", read("/data/a.csv"));
    }

    @Test
    void foldersAndRenames() throws Exception {
        fs.mkdir("/new");
        create("/new/f.txt", "f");
        assertEquals(List.of("./", "../", "README.md", "big.bin", "data/", "new/"), ls("/"));
        assertEquals(Errno.EEXIST, errno(() -> fs.mkdir("/new")));
        assertEquals(Errno.ENOTEMPTY, errno(() -> fs.rmdir("/new")));
        assertEquals(Errno.ENOENT, errno(() -> fs.create("/nope/x", 0644)));
        assertEquals(Errno.ENOTDIR, errno(() -> fs.create("/README.md/x", 0644)));
        assertEquals(Errno.EISDIR, errno(() -> fs.unlink("/data")));
        assertEquals(Errno.EPERM, errno(() -> fs.create("/.quiltfs/x", 0644)));
        assertTrue(fs.getattr("/.quiltfs").directory(), "the control folder answers by name");
        assertEquals(List.of("./", "../", "ctl", "status"), ls("/.quiltfs"));

        fs.rename("/data", "/moved");
        assertEquals(Errno.ENOENT, errno(() -> fs.getattr("/data")));
        assertEquals(List.of("./", "../", "a.csv", "sub/"), ls("/moved"));
        assertEquals("deep\n", read("/moved/sub/b.txt"));
        assertTrue(fs.area().node("moved/sub/b.txt") instanceof WorkArea.Moved, "a rename copies nothing");
        // A renamed, unchanged file is still its row: same hash and physical key attributes.
        assertEquals(manifest.get("data/sub/b.txt").hash().toString(),
                new String(fs.getxattr("/moved/sub/b.txt", "user.quilt.hash"), java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(fs.listxattr("/moved/sub/b.txt").contains("user.quilt.physical_key"),
                fs.listxattr("/moved/sub/b.txt").toString());
        assertEquals(List.of(), fs.listxattr("/new/f.txt"), "a file written here has no row yet");
        assertEquals(Errno.EINVAL, errno(() -> fs.rename("/moved", "/moved/sub/x")));

        fs.rename("/new/f.txt", "/README.md"); // over an existing file
        assertEquals("f", read("/README.md"));
        fs.rmdir("/new");
        fs.unlink("/moved/sub/b.txt");
        fs.rmdir("/moved/sub");
        assertEquals(List.of("./", "../", "a.csv"), ls("/moved"));

        WorkingFiles live = fs.liveFiles();
        Map<String, WorkingFiles.FileStat> scan = live.scan();
        assertEquals(java.util.Set.of("README.md", "big.bin", "moved/a.csv"), scan.keySet());
        assertEquals(manifest.get("big.bin").hash(), live.knownHash("big.bin", scan.get("big.bin")));
        assertEquals(manifest.get("data/a.csv").hash(), live.knownHash("moved/a.csv", scan.get("moved/a.csv")));
        assertNull(live.knownHash("README.md", scan.get("README.md")), "a written file is hashed from its bytes");
    }

    /**
     * A journal damaged by hand or by the disk (emptied, garbage, a stray value) no longer names
     * the saved copies: they are kept aside in the area, never swept away with the journal.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"", "\u0000\u00ffgarbage{{", "[1]\n", "{\"o\":\"f\",\"k\""})
    void savedEditsOutliveADamagedJournal(String damaged) throws IOException {
        create("/n.txt", "my new file");
        write("/README.md", 0, "MY EDIT");
        fs.close();
        Path area = home.mountArea(pkg);
        Files.writeString(area.resolve("journal"), damaged, StandardCharsets.ISO_8859_1);
        fs = open();
        fs.close();
        fs = open(); // and again: what was kept stays kept
        java.util.List<String> kept = new java.util.ArrayList<>();
        try (var files = Files.list(area.resolve("unjournaled"))) {
            for (Path f : files.toList()) {
                kept.add(Files.readString(f));
            }
        }
        java.util.Collections.sort(kept);
        assertEquals(List.of("MY EDIT", "my new file"), kept);
    }

    @Test
    void aJournalThatCannotBeReadIsNamedAndChangesNothing() throws IOException {
        create("/n.txt", "my new file");
        fs.close();
        Path journal = home.mountArea(pkg).resolve("journal");
        Files.delete(journal);
        Files.createDirectories(journal);
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, this::open);
        assertTrue(e.getMessage().contains(journal.toString()) && e.getMessage().contains("move the journal aside"),
                e.getMessage());
        try (var files = Files.list(home.mountArea(pkg).resolve("files"))) {
            assertEquals(1, files.count());
        }
        Files.delete(journal); // moved aside: the copy it named is kept
        fs = open();
        try (var files = Files.list(home.mountArea(pkg).resolve("unjournaled"))) {
            assertEquals(1, files.count());
        }
    }

    @Test
    void theJournalGivesTheSameTreeAfterARestart() throws IOException {
        create("/n.txt", "n");
        write("/README.md", 0, "HE");
        fs.rename("/data/sub", "/sub2");
        fs.unlink("/big.bin");
        fs.mkdir("/empty");
        fs.close();
        fs = open();
        assertEquals(List.of("./", "../", "README.md", "data/", "empty/", "n.txt", "sub2/"), ls("/"));
        assertEquals("n", read("/n.txt"));
        assertEquals("HEllo\n", read("/README.md"));
        assertEquals("deep\n", read("/sub2/b.txt"));
        assertEquals(List.of("./", "../", "a.csv"), ls("/data"));
    }

    @Test
    void aSnapshotDoesNotSeeLaterWrites() throws IOException {
        create("/s.txt", "v1");
        long h = fs.open("/s.txt", O_RDWR);
        PackageFs.Snapshot snap = fs.snapshot();
        fs.write(h, 0, ByteBuffer.wrap("v2".getBytes(StandardCharsets.UTF_8)));
        assertEquals("v2", read("/s.txt"), "the open file stays valid and sees its write");
        fs.release(h);
        Path frozen = snap.files().path("s.txt");
        assertEquals("v1", Files.readString(frozen));
        assertEquals("v2", Files.readString(fs.liveFiles().path("s.txt")));
    }

    @Test
    void aFileReplacedByAFolderLeavesNoRowBehind() throws IOException {
        fs.unlink("/README.md");
        fs.mkdir("/README.md");
        assertEquals(java.util.Set.of("big.bin", "data/a.csv", "data/sub/b.txt"), fs.liveFiles().scan().keySet(),
                "the removed file's row is not committed under the new (empty) folder");
        create("/README.md/inside.txt", "in");
        assertEquals(java.util.Set.of("README.md/inside.txt", "big.bin", "data/a.csv", "data/sub/b.txt"),
                fs.snapshot().files().scan().keySet());
        fs.rename("/data/sub", "/big.bin.d");
        fs.unlink("/big.bin");
        fs.rename("/big.bin.d", "/big.bin"); // a folder moved to where a file was
        assertEquals(java.util.Set.of("README.md/inside.txt", "big.bin/b.txt", "data/a.csv"),
                fs.liveFiles().scan().keySet());
    }

    /** A folder emptied in the mount stays after a commit whose revision no longer names it, as on a local disk. */
    @Test
    void aFolderEmptiedHereOutlivesTheCommitThatDropsItsLastRow() throws IOException {
        fs.unlink("/data/a.csv"); // data: shown by the revision's rows only, now emptied
        fs.unlink("/data/sub/b.txt");
        fs.mkdir("/data/sub/b.txt"); // data/sub: its only row replaced by a folder
        fs.unlink("/README.md");
        fs.mkdir("/README.md");
        create("/README.md/new.txt", "new");
        fs.unlink("/README.md/new.txt");
        PackageFs.Snapshot snap = fs.snapshot();
        Manifest.Builder b = manifest.toBuilder().clearEntries();
        for (io.quiltfs.store.manifest.Entry e : manifest.entries()) {
            if (!e.logicalKey().startsWith("data/") && !e.logicalKey().equals("README.md")) {
                b.add(e);
            }
        }
        Manifest next = b.build();
        fs.rebase(next, next.topHash(), snap);
        assertEquals(List.of("./", "../", "sub/"), ls("/data"), "the folders stay");
        assertEquals(List.of("./", "../", "b.txt/"), ls("/data/sub"));
        assertEquals(List.of("./", "../"), ls("/README.md"));
        fs.rmdir("/data/sub/b.txt");
        fs.rmdir("/data/sub");
        fs.rmdir("/data");
        assertEquals(List.of("./", "../", "README.md/", "big.bin"), ls("/"));
    }

    /** A commit freezes the copy of a file that is open; truncating it afterwards keeps its execute bit. */
    @Test
    void anOpenFileTruncatedAfterACommitKeepsItsExecuteBit() throws IOException {
        create("/run.sh", "#!/bin/sh\n");
        fs.chmod("/run.sh", 0755);
        long h = fs.open("/run.sh", O_RDWR);
        fs.snapshot(); // what a commit takes: the copy is frozen, the descriptor stays open
        fs.release(fs.open("/run.sh", O_WRONLY | 01000)); // O_TRUNC
        assertEquals(0755, fs.getattr("/run.sh").mode());
        assertEquals("", read("/run.sh"));
        fs.release(h);
    }

    /** The kernel asks to create a name it believed missing (a pull placed it a moment ago). */
    @Test
    void aCreateOfAnExistingFileIsAnOpen() throws Exception {
        int creat = O_WRONLY | 0100; // O_CREAT
        long h = fs.create("/README.md", 0755, creat | O_APPEND_FLAG);
        fs.release(h);
        assertEquals("hello\n", read("/README.md"), "not truncated without O_TRUNC");
        assertEquals(0644, fs.getattr("/README.md").mode(), "an existing file keeps its mode");
        assertEquals(Errno.EEXIST, errno(() -> fs.create("/README.md", 0644, creat | 0200)));
        assertEquals("hello\n", read("/README.md"));
        fs.release(fs.create("/README.md", 0644, creat | 01000));
        assertEquals("", read("/README.md"), "O_TRUNC truncates");
        fs.release(fs.create("/new.sh", 0755, creat | 0200));
        assertEquals(0755, fs.getattr("/new.sh").mode());
    }

    /**
     * A create that finds the name taken and loses it before its open (a removal in between,
     * the tree's lock released) makes the file, as O_CREAT promises, instead of answering ENOENT.
     */
    @Test
    void aCreateWhoseExistingNameGoesBeforeItOpensMakesTheFile() throws Exception {
        int creat = O_RDWR | 0100; // O_CREAT
        int[] removals = {0};
        fs.beforeCreateOpens = () -> {
            if (removals[0]++ == 0) {
                assertDoesNotThrow(() -> fs.unlink("/README.md"));
            }
        };
        long h = fs.create("/README.md", 0644, creat);
        fs.beforeCreateOpens = null;
        assertEquals(1, removals[0], "the name was found, then removed, then made");
        fs.write(h, 0, ByteBuffer.wrap("new\n".getBytes(StandardCharsets.UTF_8)));
        fs.release(h);
        assertEquals("new\n", read("/README.md"));
        assertEquals(0644, fs.getattr("/README.md").mode());
    }

    /**
     * What libfuse does when an open file is removed (or replaced by a rename): it renames the
     * file to .fuse_hiddenN in its folder, asks for its attributes there (fstat), and removes
     * that name at the last close. The file must leave the tree at once, as on a local disk.
     */
    @Test
    void aFileRemovedWhileOpenLeavesTheTreeAtOnce() throws Exception {
        create("/data/sub/w.txt", "written");
        long w = fs.open("/data/sub/w.txt", O_RDWR);
        long r = fs.open("/data/sub/b.txt", 0); // an unchanged row, open for reading
        fs.rename("/data/sub/w.txt", "/data/sub/.fuse_hidden0000000200000001"); // unlink w.txt
        fs.rename("/data/sub/b.txt", "/data/sub/.fuse_hidden0000000300000001"); // unlink b.txt
        assertEquals(List.of("./", "../"), ls("/data/sub"), "not listed");
        fs.write(w, 7, ByteBuffer.wrap("+more".getBytes(StandardCharsets.UTF_8)));
        assertEquals(12, fs.getattr("/data/sub/.fuse_hidden0000000200000001").size(), "fstat of the descriptor");
        assertEquals(5, fs.getattr("/data/sub/.fuse_hidden0000000300000001").size());
        fs.chmod("/data/sub/.fuse_hidden0000000200000001", 0755); // fchmod of the descriptor
        assertEquals(0755, fs.getattr("/data/sub/.fuse_hidden0000000200000001").mode());
        assertEquals("written+more", readHandle(w));
        assertEquals("deep\n", readHandle(r));
        assertEquals(java.util.Set.of("README.md", "big.bin", "data/a.csv"), fs.snapshot().files().scan().keySet(),
                "a commit records neither");
        fs.rename("/data", "/data2"); // libfuse keeps the removed files under the moved folder
        assertEquals(12, fs.getattr("/data2/sub/.fuse_hidden0000000200000001").size());
        fs.release(r);
        fs.unlink("/data2/sub/.fuse_hidden0000000300000001"); // the last close
        fs.rmdir("/data2/sub"); // empty, as on a local disk
        assertEquals(Errno.ENOENT, errno(() -> fs.getattr("/data2/sub/.fuse_hidden0000000200000001")),
                "libfuse has no path for it any more (it never asks again)");
        fs.write(w, 0, ByteBuffer.wrap("W".getBytes(StandardCharsets.UTF_8)));
        assertEquals(12, fs.fgetattr(w).size(), "by its handle");
        assertEquals("Written+more", readHandle(w));
        fs.release(w);
        fs.close();
        fs = open();
        assertEquals(List.of("./", "../", "README.md", "big.bin", "data2/"), ls("/"), "the journal agrees");
        assertEquals(List.of("./", "../", "a.csv"), ls("/data2"));
    }

    String readHandle(long h) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1 << 16);
        int n = fs.read(h, 0, b);
        return new String(b.array(), 0, n, StandardCharsets.UTF_8);
    }

    @Test
    void aReaderOfAnUnchangedFileSeesWritesMadeThroughAnotherDescriptor() throws IOException {
        long reader = fs.open("/README.md", 0);
        long moved = fs.open("/data/a.csv", 0);
        long other = fs.open("/data/sub/b.txt", 0);
        assertEquals("hello\n", readHandle(reader));
        write("/README.md", 6, "more\n");
        assertEquals("hello\nmore\n", readHandle(reader), "one file, whichever descriptor wrote it");
        fs.rename("/data/a.csv", "/a2.csv");
        fs.truncate("/a2.csv", 1);
        assertEquals("x", readHandle(moved), "the descriptor follows its file through a rename");
        assertEquals("deep\n", readHandle(other));
        fs.release(reader);
        fs.release(moved);
        fs.release(other);
        assertEquals("hello\nmore\n", read("/README.md"));
    }

    @Test
    void anOpenForWritingRacingAnotherDescriptorsCloseKeepsItsCopy() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        List<IOException> failed = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread opener = new Thread(() -> {
            while (!stop.get()) {
                try {
                    fs.release(fs.open("/README.md", O_RDWR));
                } catch (IOException e) {
                    failed.add(e);
                }
            }
        });
        opener.start();
        int lost = 0;
        try {
            for (int i = 0; i < 1500; i++) {
                String s = i % 2 == 0 ? "HELLO\n" : "hello\n";
                write("/README.md", 0, s);
                String got = read("/README.md");
                if (!got.equals(s)) {
                    lost++;
                }
            }
        } finally {
            stop.set(true);
            opener.join();
        }
        assertEquals(0, lost, "writes lost to a copy another descriptor's close took away");
        assertEquals(List.of(), failed, "opens that failed because another descriptor's close took the copy away");
    }

    @Test
    void aDescriptorOpenForWritingAcrossAPullWritesIntoThePulledFile() throws IOException {
        Path world = Files.writeString(tmp.resolve("world"), "WORLD\n");
        long w = fs.open("/README.md", O_RDWR);
        fs.beginPull();
        fs.place("README.md", world);
        fs.endPull();
        fs.write(w, 6, ByteBuffer.wrap("appended\n".getBytes(StandardCharsets.UTF_8)));
        fs.release(w);
        assertEquals("WORLD\nappended\n", read("/README.md"), "the write after the pull is in the file");
    }

    @Test
    void aCloseDuringAPullDoesNotSendTheFileBackToTheOldRow() throws IOException {
        Path world = Files.writeString(tmp.resolve("world"), "WORLD\n"); // the row's size
        long r1 = fs.open("/README.md", 0);
        long r2 = fs.open("/README.md", 0);
        fs.beginPull();
        fs.place("README.md", world);
        assertEquals("WORLD\n", readHandle(r2));
        fs.release(r1);
        assertEquals("WORLD\n", readHandle(r2), "the other descriptor still reads the pulled bytes");
        assertEquals("WORLD\n", read("/README.md"));
        fs.release(r2);
        fs.endPull();
        assertEquals("WORLD\n", read("/README.md"));
    }

    @Test
    void aReaderClosedWhileAPullMovesItKeepsEveryCopysCountRight() throws Exception {
        Path world = Files.writeString(tmp.resolve("world"), "WORLD\n");
        Path again = Files.writeString(tmp.resolve("again"), "AGAIN\n");
        java.util.concurrent.CyclicBarrier go = new java.util.concurrent.CyclicBarrier(2);
        long[] handle = new long[1];
        List<Throwable> failed = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread closer = new Thread(() -> {
            try {
                while (true) {
                    go.await();
                    if (stop.get()) {
                        return;
                    }
                    fs.release(handle[0]);
                    go.await();
                }
            } catch (Exception e) {
                failed.add(e);
            }
        });
        closer.start();
        try {
            fs.beginPull();
            for (int i = 0; i < 2000 && failed.isEmpty(); i++) {
                fs.place("README.md", i % 2 == 0 ? world : again);
                handle[0] = fs.open("/README.md", 0);
                go.await();
                fs.place("README.md", i % 2 == 0 ? again : world);
                go.await();
                WorkArea.Content now = (WorkArea.Content) fs.area().node("README.md");
                assertFalse(now.open(), "round " + i + ": the pulled copy holds a descriptor nobody has");
            }
        } finally {
            stop.set(true);
            go.await();
            closer.join();
            fs.endPull();
        }
        assertEquals(List.of(), failed);
        assertEquals(0, fs.openFiles());
    }

    @Test
    void namesThatWereNotUtf8AreRefused() throws Exception {
        assertEquals(Errno.EINVAL, errno(() -> fs.create("/caf\uFFFD.txt", 0644)));
        assertEquals(Errno.EINVAL, errno(() -> fs.mkdir("/d\uFFFD")));
        assertEquals(Errno.EINVAL, errno(() -> fs.rename("/README.md", "/r\uFFFD.md")));
        assertEquals("hello\n", read("/README.md"));
        assertEquals(Errno.ENAMETOOLONG, errno(() -> fs.create("/" + "\u00e9".repeat(128), 0644)));
        assertEquals(Errno.ENAMETOOLONG, errno(() -> fs.mkdir("/data/" + "x".repeat(256))));
        // 100 bytes that are not UTF-8 arrive as 100 U+FFFD (300 bytes): not a long name, an invalid one.
        String stray = "/" + "\uFFFD".repeat(100);
        assertEquals(Errno.EINVAL, errno(() -> fs.create(stray, 0644)));
        assertEquals(Errno.EINVAL, errno(() -> fs.mkdir(stray)));
        assertEquals(Errno.EINVAL, errno(() -> fs.getattr(stray)));
        assertEquals(Errno.EINVAL, errno(() -> fs.getattr("/data" + stray + "/x")));
        create("/" + "x".repeat(255), "longest");
        create("/caf\u00e9.txt", "fine");
        assertEquals("fine", read("/caf\u00e9.txt"));
    }

    @Test
    void theStatusFileCannotBeChanged() throws Exception {
        assertEquals(Errno.EPERM, errno(() -> fs.open("/.quiltfs/status", O_WRONLY)));
        assertEquals(Errno.EPERM, errno(() -> fs.open("/.quiltfs/status", PackageFs.O_TRUNC)));
        assertEquals(Errno.EPERM, errno(() -> fs.truncate("/.quiltfs/status", 0)));
        assertEquals(Errno.EPERM, errno(() -> fs.chmod("/.quiltfs/ctl", 0777)));
        fs.truncate("/.quiltfs/ctl", 0); // what `echo cmd > .quiltfs/ctl` asks first
    }

    /**
     * One descriptor of ctl taking commands in turn, as {@code exec 3<>ctl} in a shell does: the
     * second write comes at the file position past the first result, and its result is read
     * from there (it used to read nothing: the output and the exit code of every command after
     * the first were lost).
     */
    @Test
    void oneCtlDescriptorGivesTheResultOfEachCommandInTurn() throws Exception {
        List<String> ran = new java.util.ArrayList<>();
        fs.control(new PackageFs.Control() {
            @Override
            public String status() {
                return "{}";
            }

            @Override
            public String run(String line) {
                ran.add(line);
                return "ran " + line + "\nexit " + ran.size() + "\n";
            }
        });
        long h = fs.open("/.quiltfs/ctl", O_RDWR);
        long pos = 0;
        StringBuilder all = new StringBuilder();
        for (String cmd : List.of("status", "commit -m second", "push")) {
            byte[] c = (cmd + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
            pos += fs.write(h, pos, ByteBuffer.wrap(c));
            StringBuilder out = new StringBuilder();
            ByteBuffer buf = ByteBuffer.allocate(7); // a few bytes at a time, as a small read buffer asks
            int n;
            while ((n = fs.read(h, pos, buf)) > 0) {
                out.append(new String(buf.array(), 0, n, java.nio.charset.StandardCharsets.UTF_8));
                pos += n;
                buf.clear();
            }
            assertEquals("ran " + cmd + "\nexit " + ran.size() + "\n", out.toString(), "the result of " + cmd);
            all.append(out);
        }
        fs.flush(h);
        fs.release(h);
        assertEquals(List.of("status", "commit -m second", "push"), ran, "each command ran once");
        // A new descriptor reads the last result.
        long h2 = fs.open("/.quiltfs/ctl", 0);
        ByteBuffer buf = ByteBuffer.allocate(100);
        int n = fs.read(h2, 0, buf);
        fs.release(h2);
        assertEquals("ran push\nexit 3\n", new String(buf.array(), 0, n, java.nio.charset.StandardCharsets.UTF_8));

        // A command shorter than its result, read from 0 (seek(0)) in small pieces: the result once,
        // not spliced (reads past the command's length used to map back to the result's start).
        long h3 = fs.open("/.quiltfs/ctl", O_RDWR);
        fs.write(h3, 0, ByteBuffer.wrap("x\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertEquals("ran x\nexit 4\n", readFrom(h3, 0, 3));
        assertEquals("ran x\nexit 4\n", readFrom(h3, 0, 100), "a second seek back");
        fs.release(h3);

        // A reader of the last result keeps it while another descriptor runs a command.
        long h4 = fs.open("/.quiltfs/ctl", 0);
        ByteBuffer head = ByteBuffer.allocate(4);
        int got = fs.read(h4, 0, head);
        long h5 = fs.open("/.quiltfs/ctl", O_RDWR);
        fs.write(h5, 0, ByteBuffer.wrap("y\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        fs.flush(h5);
        assertEquals("ran x\nexit 4\n", new String(head.array(), 0, got, java.nio.charset.StandardCharsets.UTF_8)
                + readFrom(h4, got, 3));
        fs.release(h4);

        // A flush runs complete lines only (each command of a shell flushes a shared descriptor); the
        // rest waits for its newline, or the release.
        long at = 0;
        for (String piece : List.of("status ", "--offline\npu", "sh --force")) {
            byte[] b = piece.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            at += fs.write(h5, at + 2, ByteBuffer.wrap(b));
            fs.flush(h5);
        }
        assertEquals(List.of("status", "commit -m second", "push", "x", "y", "status --offline"), ran);
        fs.release(h5);
        assertEquals("push --force", ran.get(ran.size() - 1), "the rest ran at the release");
    }

    /** What {@code fs.read} gives from {@code offset} on, {@code chunk} bytes at a time. */
    private String readFrom(long h, long offset, int chunk) throws Exception {
        StringBuilder out = new StringBuilder();
        ByteBuffer buf = ByteBuffer.allocate(chunk);
        int n;
        while ((n = fs.read(h, offset, buf)) > 0) {
            out.append(new String(buf.array(), 0, n, java.nio.charset.StandardCharsets.UTF_8));
            offset += n;
            buf.clear();
        }
        return out.toString();
    }

    @Test
    void readOnlyTreeRefusesWrites() throws Exception {
        PackageFs ro = new PackageFs(manifest, pkg, manifest.topHash(), 0, fs.objects());
        assertEquals(Errno.EROFS, errno(() -> ro.open("/README.md", O_WRONLY)));
        assertEquals(Errno.EROFS, errno(() -> ro.mkdir("/x")));
        assertEquals(Errno.ENOENT, errno(() -> ro.getattr("/.quiltfs")));
    }

    /** open(2) with O_CREAT and O_RDONLY: an empty file, a descriptor that reads it and does not write. */
    @Test
    void aFileCreatedForReadingIsNotOpenForWriting() throws Exception {
        int creat = 0100; // O_CREAT
        long r = fs.create("/new.txt", 0644, creat); // O_RDONLY
        assertEquals(Errno.EBADF, errno(() -> fs.write(r, 0, ByteBuffer.wrap(new byte[] {1}))));
        assertEquals(Errno.EBADF, errno(() -> fs.ftruncate(r, 3)));
        assertFalse(fs.openForWriting("new.txt"), "a pull may change it under its reader");
        assertEquals("", readHandle(r));
        long w = fs.create("/other.txt", 0644, creat | O_RDWR);
        assertTrue(fs.openForWriting("other.txt"));
        fs.write(w, 0, ByteBuffer.wrap("x".getBytes(StandardCharsets.UTF_8)));
        fs.release(w);
        // The name exists by the time the kernel asks (a pull placed it): opened as open(2) would.
        long again = fs.create("/README.md", 0644, creat);
        assertFalse(fs.openForWriting("README.md"));
        assertNull(fs.area().node("README.md"), "reading an existing file makes no working copy");
        assertEquals("hello\n", readHandle(again));
        fs.release(again);
        fs.release(r);
        assertEquals("", read("/new.txt"));
        assertEquals(0, fs.openFiles());
    }

    /**
     * A pull's new names and removed names (a new folder's too) go to the kernel to drop, and the
     * pull's answer waits for them; removing the last file of a folder the pull made removes it. A
     * file placed over one that was there keeps its name: nothing is dropped.
     */
    @Test
    void aPullDropsTheNamesItAddsAndRemovesAndNoEmptyFolderOfItsOwnStays() throws IOException {
        Path world = Files.writeString(tmp.resolve("world"), "WORLD\n");
        List<List<String>> names = new ArrayList<>();
        int[] awaited = {0};
        fs.kernel(new PackageFs.Kernel() {
            @Override
            public long node(long handle) {
                return 0;
            }

            @Override
            public void invalidate(List<Long> nodes) {
            }

            @Override
            public boolean invalidateNames(List<String> keys) {
                names.add(List.copyOf(keys));
                return true;
            }

            @Override
            public void awaitInvalidations() {
                awaited[0]++;
            }
        });
        fs.beginPull();
        fs.place("added/deep/x.txt", world);
        fs.endPull();
        assertEquals(List.of(List.of("added/deep", "added", "added/deep/x.txt")), names);
        assertEquals(1, awaited[0], "the answer waits for the names to be dropped");
        assertEquals(List.of("./", "../", "deep/"), ls("/added"));
        names.clear();
        fs.beginPull();
        fs.delete("added/deep/x.txt");
        fs.endPull();
        assertEquals(List.of(List.of("added/deep/x.txt", "added/deep", "added")), names);
        assertEquals(Errno.ENOENT, errno(() -> fs.getattr("/added")), "no empty folder of the pull's stays");
        assertEquals(2, awaited[0]);
        names.clear();
        fs.beginPull();
        fs.place("README.md", world);
        fs.place("data/a.csv", world);
        fs.endPull();
        assertEquals(List.of(), names, "a file that was there keeps its name: nothing to drop");
        assertEquals(2, awaited[0], "nor to wait for");
        assertEquals("WORLD\n", read("/README.md"));
    }

    /**
     * The kernel's pages of a file a pull changed under open descriptors are dropped as the file
     * is placed (queued: the pull does not wait for the kernel while it holds the package's lock),
     * only for descriptors the kernel knows; the pull's end waits for the drops queued.
     */
    @Test
    void aPullDropsTheKernelsPagesOfEachFileAsItIsPlaced() throws IOException {
        Path world = Files.writeString(tmp.resolve("world"), "WORLD\n");
        List<List<Long>> dropped = new ArrayList<>();
        int[] awaited = {0};
        long r = fs.open("/README.md", 0);
        long other = fs.open("/data/a.csv", 0);
        fs.kernel(new PackageFs.Kernel() {
            @Override
            public long node(long handle) {
                return handle == r ? 42 : 0;
            }

            @Override
            public void invalidate(List<Long> nodes) {
                dropped.add(nodes);
            }

            @Override
            public void awaitInvalidations() {
                awaited[0]++;
            }
        });
        fs.beginPull();
        fs.endPull();
        assertEquals(0, awaited[0], "a command that placed nothing does not wait for the kernel");
        fs.beginPull();
        fs.place("data/a.csv", world);
        fs.endPull();
        assertEquals(0, awaited[0], "nor one whose files no kernel node had open");
        fs.beginPull();
        fs.place("README.md", world);
        // Now, not once the pull is over: the rest of a long pull must not show a descriptor on
        // this file its old cached pages and size with the new bytes.
        assertEquals(List.of(List.of(42L)), dropped, "queued as the file is placed");
        fs.place("data/a.csv", world);
        assertEquals(List.of(List.of(42L)), dropped, "a file no kernel node has open: nothing to drop");
        assertEquals(0, awaited[0]);
        fs.endPull();
        assertEquals(1, awaited[0], "the pull's answer waits for the drops queued");
        fs.endPull();
        assertEquals(1, awaited[0], "the next command queued none: it does not wait");
        assertEquals("WORLD\n", readHandle(r));
        assertEquals(1, dropped.size(), "each drop once");
        fs.release(r);
        fs.release(other);
    }

    /**
     * A pull stopped half-way left copies holding their new rows (found in the working area at
     * the next mount); the pull that finishes it places nothing there: once it is over, the copy goes
     * back to being its row (no change left for status or uninstall), while a copy that differs
     * from its row, or one open, stays.
     */
    @Test
    void theCopiesOfAStoppedPullAreTakenInByThePullThatFinishesIt() throws IOException {
        Path src = Files.createDirectories(tmp.resolve("src2"));
        Files.writeString(src.resolve("README.md"), "WORLD\n");
        Files.createDirectories(src.resolve("data/sub"));
        Files.writeString(src.resolve("data/a.csv"), "x,y\n3,4\n");
        Files.writeString(src.resolve("data/sub/b.txt"), "DEEP\n");
        Files.write(src.resolve("big.bin"), new byte[3 << 20]);
        var res = Build.build(registry, pkg, src, "next", Json.parse("{}"), HashType.SHA2_256_CHUNKED,
                Clock.systemUTC(), Progress.NONE);
        Manifest next = registry.readManifest(res.topHash());
        fs.beginPull(); // stopped after placing two files
        fs.place("README.md", src.resolve("README.md"));
        fs.place("data/a.csv", src.resolve("data/a.csv"));
        fs.place("data/sub/b.txt", src.resolve("data/sub/b.txt"));
        fs.endPull();
        fs.close();
        fs = open(); // the next mount finds them in its working area
        create("/data/a.csv", "x,y\n9,9\n"); // changed here since: a change still
        long w = fs.open("/data/sub/b.txt", O_RDWR); // open for writing: left alone
        fs.beginPull(); // the pull that finishes it places the rest
        fs.rebase(next, next.topHash(), null);
        fs.takeInFinishedPull();
        fs.endPull();
        assertNull(fs.area().node("README.md"), "the stopped pull's copy is its row now");
        assertEquals("WORLD\n", read("/README.md"));
        assertTrue(fs.area().node("data/a.csv") instanceof WorkArea.Content, "a copy changed since stays");
        assertEquals("x,y\n9,9\n", read("/data/a.csv"));
        assertTrue(fs.area().node("data/sub/b.txt") instanceof WorkArea.Content, "an open copy stays");
        fs.release(w);
    }

    /** A close compares a written copy's bytes with its row only when the sizes agree. */
    @Test
    void aCloseOfACopyOfAnotherSizeReadsNothing() throws IOException {
        io.quiltfs.store.manifest.Entry row = manifest.entry(manifest.find("README.md"));
        long w = fs.open("/README.md", O_RDWR);
        fs.write(w, 0, ByteBuffer.wrap("hello, longer\n".getBytes(StandardCharsets.UTF_8)));
        // Evicted: only a hash of the whole copy could compare. (The open's fetch puts the object in
        // the cache on its own thread: wait for it first, so that it does not come back after.)
        PackageFsTest.awaitFetched(fs.objects(), row);
        Files.delete(home.object(row.hash()));
        fs.release(w);
        assertEquals(0, fs.byteComparisons.sum(), "another size is a change: no bytes read");
        assertTrue(fs.area().node("README.md") instanceof WorkArea.Content);
        // The same size: the bytes decide (here the row's own, written back: no change left).
        w = fs.open("/README.md", O_RDWR);
        fs.ftruncate(w, 6);
        fs.write(w, 0, ByteBuffer.wrap("hello\n".getBytes(StandardCharsets.UTF_8)));
        fs.release(w);
        assertEquals(1, fs.byteComparisons.sum());
        assertNull(fs.area().node("README.md"), "back to its row");
    }
}
