package io.quiltfs.store.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.RegistryException;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.PackageState;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The workflow verbs end to end against every registry kind, with two homes sharing one registry. */
class WorkflowTest {
    static final PackageName PKG = PackageName.parse("team/data");

    @TempDir
    Path tmp;

    Registry registry;
    Home alice;
    Home bob;

    @BeforeEach
    void homes() throws IOException {
        alice = new Home(tmp.resolve("alice"));
        bob = new Home(tmp.resolve("bob"));
    }

    @AfterEach
    void close() throws IOException {
        if (registry != null) {
            registry.close();
        }
    }

    /** A registry of {@code kind} holding PKG built from a few files. */
    String seed(TestRegistries.Kind kind) throws IOException {
        String uri = kind.newRegistry(tmp);
        registry = kind.open(uri);
        Path src = tmp.resolve("src");
        write(src.resolve("a.txt"), "alpha");
        write(src.resolve("data/b.csv"), "x,y\n1,2\n");
        write(src.resolve("data/c.csv"), "x,y\n3,4\n");
        write(src.resolve("docs/readme.md"), "# readme");
        Build.build(registry, PKG, src, "first", null, HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE);
        return uri;
    }

    static void write(Path p, String s) throws IOException {
        Files.createDirectories(p.getParent());
        Files.writeString(p, s);
    }

    Function<PhysicalKey, ObjectSource> sources() {
        return pk -> {
            try {
                return Registries.sourceFor(pk, registry, S3Settings.defaults());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        };
    }

    Install.Result install(Home h, List<String> paths) throws IOException {
        return Install.install(h, registry, PackageRef.latest(PKG), null, paths, sources(), Progress.NONE);
    }

    Path work(Home h) {
        return h.defaultWorkDir(PKG);
    }

    Status.Report status(Home h) throws IOException {
        return Status.report(InstalledPackage.require(h, PKG), registry, HashType.SHA2_256_CHUNKED);
    }

    Commit.Result commit(Home h, String msg) throws IOException {
        return Commit.commit(InstalledPackage.require(h, PKG), msg, null, HashType.SHA2_256_CHUNKED, Progress.NONE);
    }

    Push.Result push(Home h, boolean force) throws IOException {
        return Push.push(InstalledPackage.require(h, PKG), registry, force, Clock.systemUTC(), Progress.NONE);
    }

    Pull.Result pull(Home h) throws IOException {
        return Pull.pull(InstalledPackage.require(h, PKG), registry, sources(), Progress.NONE);
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void installStatusCommitPush(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        Install.Result r = install(alice, null);
        assertEquals(4, r.placed());
        assertEquals("alpha", Files.readString(work(alice).resolve("a.txt")));
        // Working files are private copies, never links to the cache.
        Path obj = new ObjectCache(alice).path(registry.readManifest(r.topHash()).get("a.txt").hash());
        assertNotEquals(Files.getAttribute(obj, "unix:ino"), Files.getAttribute(work(alice).resolve("a.txt"), "unix:ino"));
        assertTrue(Files.isWritable(work(alice).resolve("a.txt")));
        PhysicalKey pk = PhysicalKey.parse(registry.readManifest(r.topHash()).get("a.txt").physicalKey());
        if (pk.isFile()) {
            // A local registry's object is written once (into the working folder); the cache
            // holds the registry's own immutable file, linked, not a second copy.
            assertEquals(Files.getAttribute(pk.filePath(), "unix:ino"), Files.getAttribute(obj, "unix:ino"));
            assertEquals("alpha", Files.readString(obj));
        }
        // An edit of the working file never reaches the cache or the registry.
        write(work(alice).resolve("a.txt"), "edited in place");
        assertEquals("alpha", Files.readString(obj));
        write(work(alice).resolve("a.txt"), "alpha");

        Status.Report s = status(alice);
        assertEquals(Status.State.UP_TO_DATE, s.state());
        assertTrue(s.changes().isEmpty());
        Commit.Result none = commit(alice, "nothing");
        assertFalse(none.committed());

        write(work(alice).resolve("a.txt"), "ALPHA!");
        write(work(alice).resolve("new/file.bin"), "new");
        Files.delete(work(alice).resolve("docs/readme.md"));
        s = status(alice);
        assertEquals(List.of("new/file.bin"), s.changes().added());
        assertEquals(List.of("a.txt"), s.changes().modified());
        assertEquals(List.of("docs/readme.md"), s.changes().removed());

        Commit.Result c = commit(alice, "second");
        assertTrue(c.committed());
        assertEquals(Status.State.AHEAD, status(alice).state());
        String before = registry.latest(PKG);
        Push.Result p = push(alice, false);
        assertTrue(p.pushed());
        assertEquals(2, p.uploaded());
        assertEquals("ALPHA!".length() + "new".length(), p.uploadedBytes());
        assertEquals(c.topHash(), registry.latest(PKG));
        assertNotEquals(before, registry.latest(PKG));
        Manifest pushed = registry.readManifest(c.topHash());
        // Unchanged rows keep their physical keys; the earlier revision stays readable.
        Manifest first = registry.readManifest(before);
        assertEquals(first.get("data/b.csv").physicalKey(), pushed.get("data/b.csv").physicalKey());
        assertEquals("alpha", new String(registry.open(PhysicalKey.parse(first.get("a.txt").physicalKey()), 0, -1)
                .readAllBytes()));
        assertEquals(Status.State.UP_TO_DATE, status(alice).state());
        assertFalse(push(alice, false).pushed());

        // Back to content the registry already holds: a new revision, and no bytes sent.
        write(work(alice).resolve("a.txt"), "alpha");
        assertTrue(commit(alice, "third").committed());
        Push.Result again = push(alice, false);
        assertTrue(again.pushed());
        assertEquals(0, again.uploaded(), "the registry held that content already");
        assertEquals(0, again.uploadedBytes());
    }

    /**
     * An install refused under the lineage lock (another install registered a folder around its
     * --dest meanwhile) takes back every folder it made for that --dest, parents included.
     */
    @Test
    void anInstallRefusedUnderTheLockRemovesTheFoldersItMade() throws Exception {
        seed(TestRegistries.LOCAL);
        Path dest = tmp.resolve("out/a/b/c");
        var pool = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.Future<Install.Result> f = pool.submit(() -> Install.install(alice, registry,
                    PackageRef.latest(PKG), dest, null, sources(), Progress.NONE));
            io.quiltfs.store.state.Lineage.update(alice, l -> {
                // Holding the lineage lock: the install made its folders and waits to register.
                long until = System.nanoTime() + 60_000_000_000L;
                while (!Files.isDirectory(dest) && System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                PackageState other = new PackageState();
                other.registry = registry.uri();
                other.workDir = tmp.resolve("out/a").toString();
                l.put(PackageName.parse("other/pkg"), other);
                return null;
            });
            var e = assertThrows(java.util.concurrent.ExecutionException.class, f::get);
            assertTrue(e.getCause() instanceof ConflictException && e.getCause().getMessage().contains("inside"),
                    String.valueOf(e.getCause()));
        } finally {
            pool.shutdownNow();
        }
        assertFalse(Files.exists(tmp.resolve("out")), "no folder of the refused install is left");
    }

    /**
     * A commit made through a symbolic link to the home, pushed through its real path: the
     * committed content is uploaded, and the published rows never point into the cache.
     */
    @Test
    void aPushThroughAnotherSpellingOfTheHomeUploadsWhatWasCommitted() throws IOException {
        seed(TestRegistries.LOCAL);
        Path real = Files.createDirectories(tmp.resolve("real-home"));
        Home viaLink = new Home(Files.createSymbolicLink(tmp.resolve("link-home"), real));
        Install.install(viaLink, registry, PackageRef.latest(PKG), null, null, sources(), Progress.NONE);
        write(viaLink.defaultWorkDir(PKG).resolve("a.txt"), "via the link");
        assertTrue(commit(viaLink, "via the link").committed());
        Push.Result p = push(new Home(real), false);
        assertTrue(p.pushed(), p.message());
        assertEquals(1, p.uploaded());
        Manifest published = registry.readManifest(p.topHash());
        Path objects = new Home(real).objects();
        for (var e : published.entries()) {
            PhysicalKey pk = PhysicalKey.parse(e.physicalKey());
            assertFalse(pk.isFile() && (pk.filePath().startsWith(objects)
                    || pk.filePath().startsWith(viaLink.objects())), e.logicalKey() + ": " + e.physicalKey());
        }
        assertEquals("via the link", new String(registry.open(PhysicalKey.parse(published.get("a.txt").physicalKey()),
                0, -1).readAllBytes()));
    }

    /**
     * The object cache is the only copy of committed content until a push: a damaged object is
     * never published. It is stored again from the working file while that still holds the
     * committed content; once the file changed too, the push stops before sending anything.
     */
    @Test
    void aDamagedCommittedObjectIsNeverPushed() throws IOException {
        seed(TestRegistries.LOCAL);
        String before = registry.latest(PKG);
        install(alice, null);
        write(work(alice).resolve("a.txt"), "committed");
        Commit.Result c = commit(alice, "one change");
        Path object = alice.object(c.manifest().get("a.txt").hash());
        object.toFile().setWritable(true);
        Files.writeString(object, "damaged!!"); // other size and content
        Push.Result p = push(alice, false);
        assertTrue(p.pushed(), p.message());
        assertEquals("committed", new String(registry.open(PhysicalKey.parse(
                registry.readManifest(p.topHash()).get("a.txt").physicalKey()), 0, -1).readAllBytes()));

        write(work(alice).resolve("a.txt"), "committed twice");
        Commit.Result c2 = commit(alice, "two");
        Path object2 = alice.object(c2.manifest().get("a.txt").hash());
        object2.toFile().setWritable(true);
        Files.writeString(object2, "committed twicE"); // same size, other content
        write(work(alice).resolve("a.txt"), "edited since");
        IOException e = assertThrows(IOException.class, () -> push(alice, false));
        assertTrue(e.getMessage().contains("'a.txt'") && e.getMessage().contains("nothing was pushed"),
                e.getMessage());
        assertEquals(p.topHash(), registry.latest(PKG), "nothing was published");
        assertNotEquals(before, p.topHash());
        assertFalse(Files.exists(object2), "the damaged object left the cache");
    }

    /**
     * What a cache trimmer must keep for unpushed work: the objects the commit copied into the
     * cache, not the rows it left pointing at a local-folder registry.
     */
    @Test
    void anUnpushedCommitUsesOnlyTheObjectsItCached() throws IOException {
        seed(TestRegistries.LOCAL);
        install(alice, null);
        write(work(alice).resolve("a.txt"), "changed");
        Commit.Result c = commit(alice, "one change");
        java.util.Set<String> names = LocalCommits.objectNames(alice, PKG, c.topHash());
        assertEquals(java.util.Set.of(Home.objectName(c.manifest().get("a.txt").hash())), names);
        LocalCommits trimmer = new LocalCommits(alice);
        assertTrue(trimmer.uses(names.iterator().next()));
        assertFalse(trimmer.uses(Home.objectName(c.manifest().get("data/b.csv").hash())));
        push(alice, false);
        assertFalse(trimmer.uses(names.iterator().next()), "pushed: nothing to keep");
    }

    /**
     * Content committed that was already cached (so the commit made no copy of it), trimmed from
     * the cache by a mount's budget in the moment before the commit recorded it: the commit
     * stores it again, and the push finds it.
     */
    @Test
    void aCommittedObjectTrimmedFromTheCacheMidCommitIsStoredAgain() throws IOException {
        seed(TestRegistries.LOCAL);
        install(alice, null);
        write(work(alice).resolve("a.txt"), "x,y\n1,2\n"); // the content of data/b.csv: already cached
        status(alice); // hashed now: the commit takes the hash from the hash cache and copies nothing
        ObjectCache cache = new ObjectCache(alice);
        Path object = cache.path(registry.readManifest(registry.latest(PKG)).get("data/b.csv").hash());
        assertTrue(Files.exists(object));
        WorkFolder folder = new WorkFolder(work(alice));
        WorkingFiles trimming = new WorkingFiles() {
            public java.util.Map<String, FileStat> scan() throws IOException { return folder.scan(); }
            public FileStat stat(String key) throws IOException { return folder.stat(key); }
            public Path path(String key) { return folder.path(key); }
            public FileStat place(String key, Path source) throws IOException { return folder.place(key, source); }
            public void delete(String key) throws IOException { folder.delete(key); }
            public String describe() { return folder.describe(); }

            @Override
            public com.fasterxml.jackson.databind.JsonNode carriedMeta(String key) {
                try {
                    Files.deleteIfExists(object); // what CacheBudget does when it evicts
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return null;
            }
        };
        InstalledPackage.attach(work(alice), trimming);
        try {
            assertTrue(commit(alice, "a is b").committed());
        } finally {
            InstalledPackage.detach(work(alice));
        }
        assertTrue(Files.exists(object), "stored again after the lineage recorded the commit");
        assertTrue(push(alice, false).pushed());
    }

    /** A file open for writing through a mount is a local change for a pull: refused, named, nothing changed. */
    @Test
    void aPullLeavesAFileOpenForWritingAloneAndSaysSo() throws IOException {
        seed(TestRegistries.LOCAL);
        install(alice, null);
        install(bob, null);
        write(work(alice).resolve("a.txt"), "alice 1");
        commit(alice, "alice 1");
        push(alice, false);
        String bobHead = InstalledPackage.require(bob, PKG).state().head;
        WorkFolder folder = new WorkFolder(work(bob));
        WorkingFiles writing = new WorkingFiles() {
            public java.util.Map<String, FileStat> scan() throws IOException { return folder.scan(); }
            public FileStat stat(String key) throws IOException { return folder.stat(key); }
            public Path path(String key) { return folder.path(key); }
            public FileStat place(String key, Path source) throws IOException { return folder.place(key, source); }
            public void delete(String key) throws IOException { folder.delete(key); }
            public String describe() { return folder.describe(); }

            @Override
            public boolean openForWriting(String key) {
                return key.equals("a.txt");
            }
        };
        InstalledPackage.attach(work(bob), writing);
        try {
            ConflictException e = assertThrows(ConflictException.class, () -> pull(bob));
            assertTrue(e.getMessage().contains("'a.txt' is open for writing through the mount"), e.getMessage());
            assertTrue(e.getMessage().contains("nothing was changed"), e.getMessage());
            assertEquals(List.of("a.txt"), Pull.conflicts(InstalledPackage.require(bob, PKG), registry,
                    registry.latest(PKG), Status.changes(InstalledPackage.require(bob, PKG), HashType.SHA2_256_CHUNKED)),
                    "status names it before the pull too");
        } finally {
            InstalledPackage.detach(work(bob));
        }
        assertEquals("alpha", Files.readString(work(bob).resolve("a.txt")));
        assertEquals(bobHead, InstalledPackage.require(bob, PKG).state().head);
        assertTrue(pull(bob).pulled(), "closed: the pull goes through");
        assertEquals("alice 1", Files.readString(work(bob).resolve("a.txt")));
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void partialInstallFetchesOnlyWhatMatchesAndNeverRefetches(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        Install.Result r = install(alice, List.of("data"));
        assertEquals(2, r.placed());
        assertEquals(2, r.fetched());
        assertFalse(Files.exists(work(alice).resolve("a.txt")));
        // Keys not installed are not "removed".
        assertTrue(status(alice).changes().isEmpty());
        Install.Result more = install(alice, List.of("*.txt"));
        assertEquals(1, more.placed());
        assertEquals(List.of("data", "*.txt"), InstalledPackage.require(alice, PKG).state().paths);
        // A re-run keeps a removal made since (it is a change to commit), and names it; the key
        // given as --path puts it back.
        Files.delete(work(alice).resolve("data/b.csv"));
        Install.Result rerun = install(alice, null);
        assertEquals(1, rerun.placed(), "what no install placed before (docs/): " + rerun);
        assertEquals(1, rerun.keptRemoved());
        assertFalse(Files.exists(work(alice).resolve("data/b.csv")));
        assertEquals(List.of("data/b.csv"), status(alice).changes().removed());
        Install.Result back = install(alice, List.of("data/b.csv"));
        assertEquals(1, back.placed());
        assertEquals("x,y\n1,2\n", Files.readString(work(alice).resolve("data/b.csv")));
        assertTrue(status(alice).changes().isEmpty());
        assertThrows(RegistryException.NotFound.class, () -> install(alice, List.of("nothing/**")));
        // Another home sharing nothing fetches; the same home reinstalling fetches nothing.
        Uninstall.uninstall(InstalledPackage.require(alice, PKG), false);
        Install.Result again = install(alice, null);
        assertEquals(4, again.placed());
        assertEquals(0, again.fetched(), "every object is in the cache already");
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aPartialInstallCommitsPushesAndPullsWithoutFetchingTheRest(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        Manifest first = registry.readManifest(registry.latest(PKG));
        install(alice, List.of("data"));
        write(work(alice).resolve("data/b.csv"), "alice");
        Commit.Result c = commit(alice, "alice's b");
        assertEquals(List.of("data/b.csv"), c.changes().modified());
        for (String unfetched : List.of("a.txt", "docs/readme.md")) {
            assertEquals(first.get(unfetched), c.manifest().get(unfetched), "kept as it was: " + unfetched);
        }
        Push.Result pushed = push(alice, false);
        assertEquals(1, pushed.uploaded(), "only the changed file");
        assertFalse(Files.exists(work(alice).resolve("a.txt")), "nothing else was fetched");

        // Bob changes and removes keys that alice never fetched: her pull moves her rows, fetches nothing.
        install(bob, null);
        write(work(bob).resolve("docs/readme.md"), "# bob's");
        Files.delete(work(bob).resolve("a.txt"));
        write(work(bob).resolve("data/c.csv"), "bob");
        commit(bob, "bob");
        push(bob, false);
        Manifest bobs = registry.readManifest(registry.latest(PKG));
        Pull.Result pulled = pull(alice);
        assertEquals(bobs.topHash(), pulled.head());
        assertEquals(List.of("data/c.csv"), pulled.updated());
        assertFalse(Files.exists(work(alice).resolve("docs")));
        assertEquals("bob", Files.readString(work(alice).resolve("data/c.csv")));
        Manifest head = InstalledPackage.require(alice, PKG).head();
        assertEquals(bobs.get("docs/readme.md"), head.get("docs/readme.md"));
        assertNull(head.get("a.txt"));
        assertTrue(status(alice).changes().isEmpty());

        // A file alice puts at a key she did not fetch is a change, and commits as one; deleting a
        // fetched file is a removal.
        write(work(alice).resolve("docs/readme.md"), "# alice's");
        Files.delete(work(alice).resolve("data/c.csv"));
        Status.Changes ch = status(alice).changes();
        assertEquals(List.of("docs/readme.md"), ch.modified());
        assertEquals(List.of("data/c.csv"), ch.removed());
        Commit.Result mine = commit(alice, "mine");
        assertNull(mine.manifest().get("data/c.csv"));
        assertEquals(bobs.get("data/b.csv"), mine.manifest().get("data/b.csv"));
        assertEquals(1, push(alice, false).uploaded(), "docs/readme.md only");
        pull(bob);
        assertEquals("# alice's", Files.readString(work(bob).resolve("docs/readme.md")));
        assertFalse(Files.exists(work(bob).resolve("data/c.csv")));
    }

    @Test
    void aRemovalSurvivesAnInterruptedWideningAndItsReRun() throws IOException {
        seed(TestRegistries.LOCAL);
        install(alice, List.of("data"));
        Files.delete(work(alice).resolve("data/b.csv")); // the user's change
        Manifest m = registry.readManifest(registry.latest(PKG));
        Path docs = PhysicalKey.parse(m.get("docs/readme.md").physicalKey()).filePath();
        String sound = Files.readString(docs);
        Files.writeString(docs, "# README"); // same size, other content: this install fails
        Install.Incomplete failed = assertThrows(Install.Incomplete.class, () -> install(alice, List.of("docs")));
        assertTrue(failed.hint().contains("run `quiltfs install team/data --path docs` again"), failed.hint());
        ConflictException commitRefused = assertThrows(ConflictException.class, () -> commit(alice, "too early"));
        assertTrue(commitRefused.getMessage().contains("run `quiltfs install team/data --path docs` to finish it"),
                commitRefused.getMessage());
        Files.writeString(docs, sound);
        Install.Result rerun = install(alice, List.of("docs")); // as the failure says to
        assertFalse(Files.exists(work(alice).resolve("data/b.csv")), "the removal made before is kept");
        assertEquals(1, rerun.keptRemoved());
        assertEquals(sound, Files.readString(work(alice).resolve("docs/readme.md")));
        assertFalse(Files.exists(work(alice).resolve("a.txt")), "the partial install stays partial");
        assertEquals(List.of("data", "docs"), InstalledPackage.require(alice, PKG).state().paths);
        assertEquals(List.of("data/b.csv"), status(alice).changes().removed());
    }

    @Test
    void aPartialInstallsGoneFolderIsPutBackAsItWas() throws IOException {
        seed(TestRegistries.LOCAL);
        install(alice, List.of("data", "**/*.md"));
        Path moved = tmp.resolve("moved");
        Files.move(work(alice), moved);
        MissingWorkFolderException gone = assertThrows(MissingWorkFolderException.class, () -> status(alice));
        assertTrue(gone.getMessage().contains("Run `quiltfs install team/data --path data --path '**/*.md'` to put its"
                + " files back"), gone.getMessage());
        install(alice, List.of("data", "**/*.md")); // as it says
        assertTrue(Files.exists(work(alice).resolve("data/b.csv")));
        assertFalse(Files.exists(work(alice).resolve("a.txt")), "not widened to every key");
        assertTrue(status(alice).changes().isEmpty());
    }

    /**
     * A partial install recorded before {@code **}{@code /} could match no folder keeps its old
     * meaning: the top-level key it did not fetch is not taken for a removal (which a commit would
     * drop from the package).
     */
    @Test
    void aLineageWrittenBeforeTheGlobSyntaxVersionKeepsItsGlobsMeaning() throws IOException {
        write(tmp.resolve("src/top.csv"), "t\n");
        seed(TestRegistries.LOCAL);
        install(alice, List.of("data"));
        // The entry as an older quiltfs wrote it: no globSyntax (nor the other new fields).
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) io.quiltfs.store.json.Json.MAPPER.readTree(
                alice.lineageFile().toFile());
        var entry = (com.fasterxml.jackson.databind.node.ObjectNode) root.path("packages").path(PKG.toString());
        entry.remove(List.of("globSyntax", "installingPaths", "workDirMount"));
        entry.putArray("paths").add("**/*.csv");
        Files.writeString(alice.lineageFile(), io.quiltfs.store.json.Json.pretty(root));

        InstalledPackage p = InstalledPackage.require(alice, PKG);
        assertEquals(List.of("*/**/*.csv"), p.state().paths);
        assertFalse(p.filter().matches("top.csv"));
        assertTrue(p.filter().matches("data/b.csv"));
        assertTrue(status(alice).changes().isEmpty(), status(alice).changes().toString());
        install(alice, List.of("docs")); // written back in the current syntax
        assertTrue(Files.readString(alice.lineageFile()).contains("\"globSyntax\" : 2"));
        assertEquals(List.of("*/**/*.csv", "docs"), InstalledPackage.require(alice, PKG).state().paths);
        assertFalse(Files.exists(work(alice).resolve("top.csv")));
    }

    /**
     * An install run again with --path naming only paths placed before, and stopped: its hint is
     * that same command (without --path it would install every key).
     */
    @Test
    void anInterruptedReRunOfAPartialInstallIsNamedWithItsPaths() throws IOException {
        seed(TestRegistries.LOCAL);
        install(alice, List.of("data"));
        Files.delete(work(alice).resolve("data/b.csv"));
        write(work(alice).resolve("data/b.csv/x"), "in the way");
        Install.Incomplete stopped = assertThrows(Install.Incomplete.class, () -> install(alice, List.of("./data")));
        assertTrue(stopped.hint().contains("run `quiltfs install team/data --path data` again"), stopped.hint());
        ConflictException c = assertThrows(ConflictException.class, () -> commit(alice, "no"));
        assertTrue(c.getMessage().contains("run `quiltfs install team/data --path data` to finish"), c.getMessage());
    }

    /** A file in the place of a partial install's working folder: the hint puts back the same keys. */
    @Test
    void aFileInThePlaceOfAPartialInstallsFolderIsHintedWithItsPaths() throws IOException {
        write(tmp.resolve("src/-x/y.txt"), "y");
        seed(TestRegistries.LOCAL);
        install(alice, List.of("data", "-x/**", "**/*.md"));
        try (var all = Files.walk(work(alice))) {
            for (Path q : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(q);
            }
        }
        Files.writeString(work(alice), "someone's file");
        IOException e = assertThrows(IOException.class, () -> status(alice));
        assertTrue(e.getMessage().contains("then run `quiltfs install team/data --path data --path './-x/**' --path"
                + " '**/*.md'` to put"), e.getMessage());
    }

    /** The commands hints print are shell words that give the globs back, whatever they hold. */
    @Test
    void hintedPathsSurviveTheShell() throws Exception {
        List<String> globs = List.of("-rf", "a\nb", "it's", "tab\there", "plain/x.csv", "$HOME `x` \\ \"q\"", "\u0001",
                "c1\u0085x", "ls\u2028sep\u2029p", "=cmd", "a=b");
        String opts = Install.pathOptions(globs);
        assertTrue(opts.startsWith(" --path ./-rf --path $'a\\nb' --path 'it'\\''s' "), opts);
        assertFalse(opts.contains("\n"), "one line: " + opts);
        assertTrue(opts.contains(" --path $'c1\\u0085x' --path $'ls\\u2028sep\\u2029p' --path '=cmd' --path a=b"), opts);
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "for a in" + opts.replace(" --path ", " ")
                + "; do printf '%s\\0' \"$a\"; done").redirectErrorStream(true);
        pb.environment().put("LC_ALL", "C.UTF-8"); // bash writes a \\u escape in the locale's encoding
        Process bash = pb.start();
        String got = new String(bash.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, bash.waitFor(), got);
        List<String> back = new ArrayList<>(List.of(got.split("\0")));
        back.set(0, back.get(0).substring(2)); // "./" that reading drops
        assertEquals(globs, back);
        assertEquals(List.of("-rf"), new PathFilter(List.of("./-rf")).globs());
    }

    @Test
    void aCorruptObjectIsNeverInstalled() throws IOException {
        seed(TestRegistries.LOCAL);
        Manifest m = registry.readManifest(registry.latest(PKG));
        Path data = PhysicalKey.parse(m.get("data/b.csv").physicalKey()).filePath();
        Files.writeString(data, "x,y\n6,6\n"); // same size, other content
        IOException e = assertThrows(IOException.class, () -> install(alice, null));
        assertTrue(e.getMessage().contains("'data/b.csv'") && e.getMessage().contains("does not match"),
                e.getMessage());
        assertFalse(Files.exists(work(alice).resolve("data/b.csv")));
        assertNull(new ObjectCache(alice).lookup(m.get("data/b.csv").hash()));
        // The half-done install is not mistaken for a removal: status says so, commit refuses.
        assertTrue(e.getMessage().contains("install of " + PKG + " is incomplete"), e.getMessage());
        Status.Report s = status(alice);
        assertTrue(s.installing());
        assertEquals(List.of(), s.changes().removed());
        ConflictException ce = assertThrows(ConflictException.class, () -> commit(alice, "oops"));
        assertTrue(ce.getMessage().contains("did not finish"), ce.getMessage());
        // Once the object is sound again, installing again finishes the job.
        Files.writeString(data, "x,y\n1,2\n");
        Install.Result again = install(alice, null);
        assertTrue(again.placed() >= 1, "the files not placed before are placed now: " + again.placed());
        assertEquals("x,y\n1,2\n", Files.readString(work(alice).resolve("data/b.csv")));
        Status.Report after = status(alice);
        assertFalse(after.installing());
        assertTrue(after.changes().isEmpty(), after.changes().toString());
    }

    @Test
    void aRegistryOnAnotherFileSystemStillFillsTheCache() throws IOException {
        Path shm = Path.of("/dev/shm");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm)
                && !Files.getFileStore(shm).equals(Files.getFileStore(tmp)), "needs /dev/shm on another file system");
        Path dir = Files.createTempDirectory(shm, "quiltfs-registry");
        try {
            registry = new io.quiltfs.store.registry.LocalRegistry(dir);
            Path src = tmp.resolve("src");
            write(src.resolve("a.txt"), "alpha");
            Build.build(registry, PKG, src, "first", null, HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE);
            Install.Result r = install(alice, null);
            assertEquals(1, r.fetched());
            Manifest m = registry.readManifest(r.topHash());
            org.junit.jupiter.api.Assertions.assertNotNull(new ObjectCache(alice).lookup(m.get("a.txt").hash()),
                    "no link across file systems: a copy");
            Uninstall.uninstall(InstalledPackage.require(alice, PKG), false);
            assertEquals(0, install(alice, null).fetched(), "the second install finds it in the cache");
        } finally {
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /**
     * A commit or a pull merge without new package metadata keeps the header's user_meta exactly:
     * quilt3 writes {@code "user_meta": null} for a package without metadata (Build does too), and
     * quilt3 keeps a header without the key as it is; dropping or adding it changes the top hash
     * that quilt3 computes for the same change.
     */
    @Test
    void commitAndPullKeepTheHeadersUserMetaAsItIs() throws IOException {
        seed(TestRegistries.LOCAL);
        assertTrue(registry.readManifest(registry.latest(PKG)).header().get("user_meta").isNull());
        install(alice, null);
        install(bob, null);
        write(work(alice).resolve("a.txt"), "alice");
        Manifest m = commit(alice, "a change").manifest();
        assertTrue(m.header().has("user_meta") && m.header().get("user_meta").isNull(), m.header().toString());
        assertEquals(registry.readManifest(registry.latest(PKG)).toBuilder().clearEntries().message("a change").build()
                .header(), m.header());
        push(alice, false);
        // Bob's commit is merged by pull onto Alice's revision: still "user_meta": null.
        write(work(bob).resolve("data/c.csv"), "bob");
        commit(bob, "bob");
        assertTrue(pull(bob).merged());
        Manifest merged = InstalledPackage.require(bob, PKG).head();
        assertTrue(merged.header().has("user_meta") && merged.header().get("user_meta").isNull(),
                merged.header().toString());

        // A header without user_meta (another client's) stays without it.
        Manifest noMeta = registry.readManifest(registry.latest(PKG)).toBuilder().userMeta(null).build();
        String top = registry.writeManifest(noMeta);
        registry.writePointer(PKG, "1700000000", top);
        registry.compareAndSetLatest(PKG, registry.latest(PKG), top);
        Home carol = new Home(tmp.resolve("carol"));
        install(carol, null);
        write(work(carol).resolve("a.txt"), "carol");
        Manifest c = commit(carol, "carol").manifest();
        assertFalse(c.header().has("user_meta"), c.header().toString());
        // Explicit metadata still replaces it, and an explicit null is a change from absent.
        Manifest withNull = Commit.commit(InstalledPackage.require(carol, PKG), "null", com.fasterxml.jackson.databind
                .node.NullNode.getInstance(), HashType.SHA2_256_CHUNKED, Progress.NONE).manifest();
        assertTrue(withNull.header().get("user_meta").isNull());
    }

    /**
     * A key whose last component is as long as a file name can be (255 UTF-8 bytes) builds into a
     * local registry and is pushed again after a change: the temporary file beside the data
     * object must not need a longer name than the key's own.
     */
    @Test
    void keysWithTheLongestFileNamesBuildAndPushToALocalRegistry() throws IOException {
        String ascii = "x".repeat(251) + ".txt";
        String accented = "\u00e9".repeat(125) + "a.tx";
        String emoji = "\uD83D\uDE00".repeat(63) + "abc";
        registry = TestRegistries.LOCAL.open(TestRegistries.LOCAL.newRegistry(tmp));
        Path src = tmp.resolve("long");
        write(src.resolve("d/" + ascii), "ascii");
        write(src.resolve(accented), "accented");
        write(src.resolve(emoji), "emoji");
        Build.build(registry, PKG, src, "long names", null, HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE);
        install(alice, null);
        assertEquals("accented", Files.readString(work(alice).resolve(accented)));
        write(work(alice).resolve("d/" + ascii), "ascii, changed");
        write(work(alice).resolve(emoji), "emoji, changed");
        assertTrue(commit(alice, "changed").committed());
        assertTrue(push(alice, false).pushed());
        install(bob, null);
        assertEquals("ascii, changed", Files.readString(work(bob).resolve("d/" + ascii)));
        assertEquals("emoji, changed", Files.readString(work(bob).resolve(emoji)));
    }

    @Test
    void changedRowsTakeTheCommitsChecksumType() throws IOException {
        registry = TestRegistries.LOCAL.open(TestRegistries.LOCAL.newRegistry(tmp));
        Path src = tmp.resolve("legacy");
        write(src.resolve("f.txt"), "one");
        write(src.resolve("same.txt"), "same");
        Build.build(registry, PKG, src, "legacy", null, HashType.SHA256, Clock.systemUTC(), Progress.NONE);
        install(alice, null);
        write(work(alice).resolve("f.txt"), "two");
        write(work(alice).resolve("n.txt"), "new");
        Manifest m = commit(alice, "default type").manifest();
        assertEquals(HashType.SHA2_256_CHUNKED, m.get("f.txt").hash().type());
        assertEquals(HashType.SHA2_256_CHUNKED, m.get("n.txt").hash().type());
        assertEquals(HashType.SHA256, m.get("same.txt").hash().type(), "an unchanged row keeps its checksum");
        assertEquals(io.quiltfs.store.hash.FileHasher.hash(work(alice).resolve("f.txt"), HashType.SHA2_256_CHUNKED),
                m.get("f.txt").hash());
        write(work(alice).resolve("f.txt"), "three");
        Manifest m2 = Commit.commit(InstalledPackage.require(alice, PKG), "crc", null, HashType.CRC64NVME,
                Progress.NONE).manifest();
        assertEquals(HashType.CRC64NVME, m2.get("f.txt").hash().type());
        assertTrue(Files.exists(new ObjectCache(alice).path(m2.get("f.txt").hash())));
        assertTrue(status(alice).changes().isEmpty());
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void statusHashesOnlyWhatChanged(TestRegistries.Kind kind) throws Exception {
        seed(kind);
        install(alice, null);
        InstalledPackage p = InstalledPackage.require(alice, PKG);
        AtomicInteger hashed = new AtomicInteger();
        Status.KeyHasher counting = (keys, type) -> {
            hashed.addAndGet(keys.size());
            return Status.plain(p.files()).hash(keys, type);
        };
        HashCache cache = p.hashCache();
        assertTrue(Status.changes(p.files(), p.head(), p.filter(), cache, HashType.SHA2_256_CHUNKED, counting).isEmpty());
        assertEquals(0, hashed.get(), "install records the hashes of what it wrote");
        write(work(alice).resolve("data/b.csv"), "x,y\n9,9\n");
        // Past the file clock's tick, else its hash is not kept (HashCache's racy-entry rule).
        Thread.sleep(HashCache.TICK_NANOS / 1_000_000 + 5);
        Status.Changes c = Status.changes(p.files(), p.head(), p.filter(), cache, HashType.SHA2_256_CHUNKED, counting);
        assertEquals(List.of("data/b.csv"), c.modified());
        assertEquals(1, hashed.get());
        cache.save();
        hashed.set(0);
        HashCache reloaded = p.hashCache();
        Status.changes(p.files(), p.head(), p.filter(), reloaded, HashType.SHA2_256_CHUNKED, counting);
        assertEquals(0, hashed.get(), "the saved cache spares the re-hash");
        // Touching without changing content is re-hashed and found unchanged.
        Files.setLastModifiedTime(work(alice).resolve("a.txt"), java.nio.file.attribute.FileTime.fromMillis(1000));
        c = Status.changes(p.files(), p.head(), p.filter(), reloaded, HashType.SHA2_256_CHUNKED, counting);
        assertEquals(1, hashed.get());
        assertEquals(List.of("data/b.csv"), c.modified());
    }

    /**
     * A file rewritten in place with bytes of the same size and its mtime set back (cp -p of a
     * same-size file over it, touch -r) keeps its size, mtime and inode: only the ctime tells.
     * Status and commit hash it again instead of taking the hash of the bytes it held before.
     */
    @Test
    void aSameSizeRewriteWithItsTimeSetBackIsHashedAgain() throws Exception {
        seed(TestRegistries.LOCAL);
        install(alice, null);
        Path b = work(alice).resolve("data/b.csv");
        java.nio.file.attribute.FileTime t = Files.getLastModifiedTime(b);
        Object ino = Files.getAttribute(b, "unix:ino");
        rewrite(b, "x,y\n3,4\n", t); // data/c.csv's bytes
        assertEquals(List.of("data/b.csv"), status(alice).changes().modified());
        rewrite(b, "x,y\n1,2\n", t); // its own bytes again
        assertEquals(ino, Files.getAttribute(b, "unix:ino"));
        assertEquals(t, Files.getLastModifiedTime(b));
        assertTrue(status(alice).changes().isEmpty(), "the row's bytes again");
        rewrite(b, "x,y\n3,4\n", t);
        assertEquals(List.of("data/b.csv"), status(alice).changes().modified());
        rewrite(b, "x,y\n5,6\n", t);
        Manifest m = commit(alice, "second").manifest();
        Path obj = new ObjectCache(alice).path(m.get("data/b.csv").hash());
        assertEquals("x,y\n5,6\n", Files.readString(obj), "the commit records the bytes the file holds");
    }

    /**
     * Writes {@code s} over {@code p} in place (its inode stays) and sets its mtime to {@code t},
     * as cp -p over an existing file does; again until its ctime moved (the kernel's file clock
     * ticks every few milliseconds: two writes in one tick share a ctime, a window a status
     * cannot see).
     */
    static void rewrite(Path p, String s, java.nio.file.attribute.FileTime t) throws Exception {
        Object before = Files.getAttribute(p, "unix:ctime");
        for (int i = 0; i < 100; i++) {
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(p,
                    java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(java.nio.ByteBuffer.wrap(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            }
            Files.setLastModifiedTime(p, t);
            if (!before.equals(Files.getAttribute(p, "unix:ctime"))) {
                return;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("the ctime of " + p + " never moved");
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void theCleanMarkNeverHidesAChange(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        install(alice, List.of("data", "a.txt"));
        assertTrue(status(alice).changes().isEmpty());
        assertTrue(status(alice).changes().isEmpty(), "second status (clean mark) agrees");
        write(work(alice).resolve("data/b.csv"), "x,y\n1,3\n");
        assertEquals(List.of("data/b.csv"), status(alice).changes().modified());
        write(work(alice).resolve("data/b.csv"), "x,y\n1,2\n");
        assertTrue(status(alice).changes().isEmpty());
        Files.delete(work(alice).resolve("a.txt"));
        assertEquals(List.of("a.txt"), status(alice).changes().removed());
        write(work(alice).resolve("a.txt"), "alpha");
        assertTrue(status(alice).changes().isEmpty());
        write(work(alice).resolve("z.txt"), "z");
        assertEquals(List.of("z.txt"), status(alice).changes().added());
        Files.delete(work(alice).resolve("z.txt"));
        assertTrue(status(alice).changes().isEmpty());
        // Installing more paths changes what "removed" means: the mark does not carry over.
        install(alice, List.of("docs"));
        Files.delete(work(alice).resolve("docs/readme.md"));
        assertEquals(List.of("docs/readme.md"), status(alice).changes().removed());
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void twoUsersPushConflictPullMergeForce(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        install(alice, null);
        install(bob, null);

        // Alice pushes; Bob is Behind, pulls while editing another file: his edit stays.
        write(work(alice).resolve("a.txt"), "alice 1");
        commit(alice, "alice 1");
        push(alice, false);
        write(work(bob).resolve("data/c.csv"), "bob's edit");
        assertEquals(Status.State.BEHIND, status(bob).state());
        Pull.Result pr = pull(bob);
        assertTrue(pr.pulled());
        assertFalse(pr.merged());
        assertEquals("alice 1", Files.readString(work(bob).resolve("a.txt")));
        assertEquals("bob's edit", Files.readString(work(bob).resolve("data/c.csv")));
        Status.Report bs = status(bob);
        assertEquals(Status.State.UP_TO_DATE, bs.state());
        assertEquals(List.of("data/c.csv"), bs.changes().modified());

        // Bob commits and pushes; Alice committed meanwhile: her push is refused, nothing moves.
        commit(bob, "bob 1");
        push(bob, false);
        String bobTop = registry.latest(PKG);
        write(work(alice).resolve("docs/readme.md"), "alice 2");
        commit(alice, "alice 2");
        assertEquals(Status.State.DIVERGED, status(alice).state());
        ConflictException ce = assertThrows(ConflictException.class, () -> push(alice, false));
        assertTrue(ce.getMessage().contains("quiltfs pull team/data"), ce.getMessage());
        assertEquals(bobTop, registry.latest(PKG));

        // No key changed on both sides: pull merges into one local commit, then push succeeds.
        Pull.Result merged = pull(alice);
        assertTrue(merged.merged());
        assertEquals("bob's edit", Files.readString(work(alice).resolve("data/c.csv")));
        assertEquals("alice 2", Files.readString(work(alice).resolve("docs/readme.md")));
        assertEquals(Status.State.AHEAD, status(alice).state());
        assertTrue(status(alice).changes().isEmpty());
        push(alice, false);
        Manifest m = registry.readManifest(registry.latest(PKG));
        assertEquals(4, m.size());
        assertEquals(Status.State.BEHIND, status(bob).state());
        pull(bob);
        assertEquals("alice 2", Files.readString(work(bob).resolve("docs/readme.md")));
        assertEquals(Status.State.UP_TO_DATE, status(bob).state());

        // The same key changed on both sides: pull refuses, naming it, and changes nothing.
        write(work(alice).resolve("a.txt"), "alice 3");
        commit(alice, "alice 3");
        push(alice, false);
        write(work(bob).resolve("a.txt"), "bob 3 (uncommitted)");
        String bobHead = InstalledPackage.require(bob, PKG).state().head;
        ConflictException pc = assertThrows(ConflictException.class, () -> pull(bob));
        assertTrue(pc.getMessage().contains("'a.txt'"), pc.getMessage());
        assertEquals("bob 3 (uncommitted)", Files.readString(work(bob).resolve("a.txt")));
        assertEquals(bobHead, InstalledPackage.require(bob, PKG).state().head);
        // Committed conflicting change: Diverged; --force makes Bob's revision latest anyway.
        Commit.Result bc = commit(bob, "bob 3");
        assertThrows(ConflictException.class, () -> pull(bob));
        assertEquals(Status.State.DIVERGED, status(bob).state());
        Push.Result forced = push(bob, true);
        assertTrue(forced.pushed());
        assertEquals(bc.topHash(), registry.latest(PKG));
        assertEquals(Status.State.UP_TO_DATE, status(bob).state());
        assertEquals(Status.State.BEHIND, status(alice).state());
        pull(alice);
        assertEquals("bob 3 (uncommitted)", Files.readString(work(alice).resolve("a.txt")));
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void keysTurnFromFilesIntoFoldersAndBack(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        install(alice, null);
        install(bob, null);
        // a.txt becomes a folder, data/ becomes a file.
        Path a = work(alice);
        Files.delete(a.resolve("a.txt"));
        write(a.resolve("a.txt/x"), "inside");
        Files.delete(a.resolve("data/b.csv"));
        Files.delete(a.resolve("data/c.csv"));
        Files.delete(a.resolve("data"));
        write(a.resolve("data"), "now a file");
        commit(alice, "shapes");
        assertTrue(push(alice, false).pushed());
        Manifest m = registry.readManifest(registry.latest(PKG));
        assertEquals(List.of("a.txt/x", "data", "docs/readme.md"),
                m.entries().stream().map(io.quiltfs.store.manifest.Entry::logicalKey).sorted().toList());
        // The first revision stays readable as it was.
        install(new Home(tmp.resolve("carol")), null);
        Install.install(new Home(tmp.resolve("dave")), registry, PackageRef.parse(PKG + "@"
                + InstalledPackage.require(bob, PKG).state().head), null, null, sources(), Progress.NONE);
        assertEquals("alpha", Files.readString(new Home(tmp.resolve("dave")).defaultWorkDir(PKG).resolve("a.txt")));
        // Bob, Behind with a clean folder, takes both changes in.
        Pull.Result pr = pull(bob);
        assertTrue(pr.pulled());
        assertEquals("inside", Files.readString(work(bob).resolve("a.txt/x")));
        assertEquals("now a file", Files.readString(work(bob).resolve("data")));
        assertEquals(Status.State.UP_TO_DATE, status(bob).state());
        assertTrue(status(bob).changes().isEmpty());
        // And back again.
        Files.delete(work(bob).resolve("a.txt/x"));
        Files.delete(work(bob).resolve("a.txt"));
        write(work(bob).resolve("a.txt"), "a file again");
        commit(bob, "back");
        assertTrue(push(bob, false).pushed());
        pull(alice);
        assertEquals("a file again", Files.readString(work(alice).resolve("a.txt")));
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aKeyCommittedWithTheRemotesContentThenEditedIsNoConflict(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        install(alice, null);
        install(bob, null);
        write(work(alice).resolve("a.txt"), "beta");
        commit(alice, "beta");
        push(alice, false);
        write(work(bob).resolve("a.txt"), "beta");
        commit(bob, "beta too");
        write(work(bob).resolve("a.txt"), "gamma");
        Pull.Result pr = pull(bob);
        assertTrue(pr.pulled());
        assertEquals("gamma", Files.readString(work(bob).resolve("a.txt")), "the edit is kept");
        Status.Report s = status(bob);
        assertEquals(List.of("a.txt"), s.changes().modified());
        assertEquals(registry.latest(PKG), s.base());
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aPushRefusedAtTheLastStepLeavesNoRevisionBehind(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        install(alice, null);
        write(work(alice).resolve("a.txt"), "late");
        Commit.Result c = commit(alice, "late");
        int before = registry.revisions(PKG).size();
        String latest = registry.latest(PKG);
        // As if `latest` moved while the data was uploading: the compare-and-set fails.
        CachedObjects cached = new CachedObjects(alice);
        Publisher.Result r = new Publisher(registry, Clock.systemUTC()).publish(PKG, c.manifest(), cached::of,
                "0".repeat(64), false, Progress.NONE);
        assertFalse(r.movedLatest());
        assertEquals(latest, registry.latest(PKG));
        assertEquals(before, registry.revisions(PKG).size(), "the refused revision's pointer is withdrawn");
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aPackageWithoutLatestIsPushedAndAPushKilledAfterLatestIsSettledByPull(TestRegistries.Kind kind)
            throws IOException {
        seed(kind);
        install(alice, null);
        registry.deletePointer(PKG, "latest");
        assertEquals(Status.State.LOCAL, status(alice).state(), "the registry no longer has the package's latest");
        Push.Result idle = push(alice, false);
        assertFalse(idle.pushed());
        assertTrue(idle.message().contains("--force"), idle.message());
        assertNull(registry.latest(PKG));
        write(work(alice).resolve("a.txt"), "again");
        Commit.Result c = commit(alice, "again");
        assertEquals(Status.State.AHEAD, status(alice).state());
        assertTrue(push(alice, false).pushed(), "no latest: the push may create it");
        assertEquals(c.topHash(), registry.latest(PKG));
        // A push stopped just after `latest` moved (the lineage still lists the commit): pull settles it.
        write(work(alice).resolve("a.txt"), "once more");
        Commit.Result c2 = commit(alice, "once more");
        CachedObjects cached = new CachedObjects(alice);
        assertTrue(new Publisher(registry, Clock.systemUTC()).publish(PKG, c2.manifest(), cached::of, c.topHash(),
                false, Progress.NONE).movedLatest());
        assertEquals(1, status(alice).unpushed().size());
        pull(alice);
        Status.Report s = status(alice);
        assertEquals(Status.State.UP_TO_DATE, s.state());
        assertEquals(List.of(), s.unpushed());
        Uninstall.uninstall(InstalledPackage.require(alice, PKG), false);
    }

    @Test
    void aPushToARegistryThatLostThePackageIsRefused() throws IOException {
        String uri = seed(TestRegistries.LOCAL);
        install(alice, null);
        write(work(alice).resolve("a.txt"), "where did it go");
        commit(alice, "lost");
        Path root = PhysicalKey.parse(uri).filePath();
        Files.move(root, tmp.resolve("moved-away"));
        ConflictException e = assertThrows(ConflictException.class, () -> push(alice, false));
        assertTrue(e.getMessage().contains("--force"), e.getMessage());
        assertFalse(Files.exists(root), "nothing was written where the registry was");
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void tagsAndLog(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        String first = registry.latest(PKG);
        install(alice, null);
        write(work(alice).resolve("a.txt"), "2");
        commit(alice, "second");
        List<Log.Line> log = Log.log(registry, PKG, InstalledPackage.require(alice, PKG));
        assertTrue(log.get(0).local());
        assertTrue(log.get(0).head());
        assertTrue(log.get(1).latest() && log.get(1).base());
        push(alice, false);
        assertEquals(first, Tag.set(registry, PKG, "v1", first.substring(0, 8), false));
        assertEquals(registry.latest(PKG), Tag.set(registry, PKG, "v2", null, false));
        assertEquals(first, registry.resolve(PackageRef.parse("team/data:v1")));
        // A tag names what someone may rely on: it moves only with force; re-tagging the same
        // revision is a no-op.
        ConflictException moved = assertThrows(ConflictException.class, () -> Tag.set(registry, PKG, "v1", null, false));
        assertTrue(moved.getMessage().contains("already names " + first) && moved.getMessage().contains("--force"),
                moved.getMessage());
        assertEquals(first, registry.resolve(PackageRef.parse("team/data:v1")), "the refused move changed nothing");
        assertEquals(first, Tag.set(registry, PKG, "v1", first, false));
        assertEquals(registry.latest(PKG), Tag.set(registry, PKG, "v1", null, true));
        assertEquals(first, Tag.set(registry, PKG, "v1", first, true));
        // The registry's compare-and-set of a tag: one of two writers wins, the other is told.
        String latest = registry.latest(PKG);
        assertNull(registry.compareAndSetTag(PKG, "v9", null, first));
        assertEquals(first, registry.compareAndSetTag(PKG, "v9", null, latest), "no longer absent");
        assertEquals(first, registry.compareAndSetTag(PKG, "v9", latest, latest), "not what was expected");
        assertNull(registry.compareAndSetTag(PKG, "v9", first, latest));
        assertEquals(latest, registry.tag(PKG, "v9"));
        Tag.delete(registry, PKG, "v9");
        log = Log.log(registry, PKG, InstalledPackage.require(alice, PKG));
        assertEquals(2, log.size());
        assertEquals("second", log.get(0).message());
        assertEquals(List.of("v2"), log.get(0).tags());
        assertEquals(List.of("v1"), log.get(1).tags());
        Tag.delete(registry, PKG, "v1");
        assertThrows(RegistryException.NotFound.class, () -> Tag.delete(registry, PKG, "v1"));
        // Installing a tagged revision.
        Install.install(bob, registry, PackageRef.parse("team/data:v2"), null, null, sources(), Progress.NONE);
        assertEquals("2", Files.readString(work(bob).resolve("a.txt")));
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void uninstallProtectsWork(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        install(alice, null);
        write(work(alice).resolve("a.txt"), "edit");
        assertThrows(ConflictException.class, () -> Uninstall.uninstall(InstalledPackage.require(alice, PKG), false));
        commit(alice, "edit");
        assertThrows(ConflictException.class, () -> Uninstall.uninstall(InstalledPackage.require(alice, PKG), false));
        Uninstall.uninstall(InstalledPackage.require(alice, PKG), true);
        assertNull(InstalledPackage.find(alice, PKG));
        assertFalse(Files.exists(work(alice)));
        assertTrue(Files.list(alice.objects()).findAny().isPresent(), "cached objects stay");
    }

    @Test
    void aFileChangingWhileCommittedIsDetected() throws Exception {
        seed(TestRegistries.LOCAL);
        install(alice, null);
        Path big = work(alice).resolve("growing.bin");
        Files.write(big, new byte[4 << 20]);
        AtomicInteger stop = new AtomicInteger();
        Thread writer = new Thread(() -> {
            byte[] b = new byte[4096];
            try (var ch = java.nio.channels.FileChannel.open(big, java.nio.file.StandardOpenOption.WRITE)) {
                long pos = 0;
                while (stop.get() == 0) {
                    b[0]++;
                    ch.write(java.nio.ByteBuffer.wrap(b), pos);
                    pos = (pos + 4096) % (4 << 20);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        writer.start();
        int detected = 0;
        try {
            for (int i = 0; i < 20 && detected == 0; i++) {
                try {
                    Commit.Result r = commit(alice, "attempt " + i);
                    // Whatever was recorded must be what is in the cache under that hash.
                    var row = InstalledPackage.require(alice, PKG).head().get("growing.bin");
                    Path obj = PhysicalKey.parse(row.physicalKey()).filePath();
                    assertEquals(row.hash(), io.quiltfs.store.hash.FileHasher.hash(obj, row.hash().type()));
                    assertTrue(r.committed() || !r.committed());
                } catch (IOException e) {
                    assertTrue(e.getMessage().contains("'growing.bin'") && e.getMessage().contains("changed while"),
                            e.getMessage());
                    detected++;
                }
            }
        } finally {
            stop.set(1);
            writer.join();
        }
        assertTrue(detected > 0, "a file written during the commit was never detected");
    }

    @Test
    void workingFilesRefuseWhatAPackageCannotHold() throws IOException {
        Path root = tmp.resolve("w");
        write(root.resolve("ok.txt"), "ok");
        Files.createSymbolicLink(root.resolve("link"), root.resolve("ok.txt"));
        IOException e = assertThrows(IOException.class, () -> new WorkFolder(root).scan());
        assertTrue(e.getMessage().contains("'link'"), e.getMessage());
        Path ro = tmp.resolve("ro.txt");
        write(ro, "read-only source");
        Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r--r--r--"));
        WorkFolder w = new WorkFolder(tmp.resolve("w2"));
        w.place("deep/x.txt", ro);
        assertTrue(Files.isWritable(w.path("deep/x.txt")));
        assertThrows(IllegalArgumentException.class, () -> w.path("../escape"));
        w.delete("deep/x.txt");
        assertFalse(Files.exists(tmp.resolve("w2/deep")));
        // Temporary files are never keys; those of dead processes are cleaned up.
        Path dead = w.root().resolve(WorkFolder.TEMP_PREFIX + "1-999999999");
        Path alive = w.root().resolve(WorkFolder.TEMP_PREFIX + "2-" + ProcessHandle.current().pid());
        write(dead, "half");
        write(alive, "being written");
        assertTrue(w.scan().isEmpty());
        assertFalse(Files.exists(dead));
        assertTrue(Files.exists(alive));
    }

    @Test
    void hashCacheKeysSurviveAnyCharacter() throws IOException {
        Path f = tmp.resolve("hc");
        HashCache c = HashCache.load(f);
        List<String> keys = new ArrayList<>(List.of("plain", "with space", "new\nline", "back\\slash", "cr\rx",
                "donn\u00e9es/\u00e9t\u00e9 \u2603.txt"));
        var sum = io.quiltfs.store.hash.Checksum.of(HashType.SHA2_256_CHUNKED, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        for (String k : keys) {
            c.put(k, new WorkingFiles.FileStat(1, 2, 3, 5), sum);
        }
        c.put("before 1970", new WorkingFiles.FileStat(12345678901L, -2_000_000_000L, 7, -1_000_000_000L), sum);
        c.save();
        HashCache r = HashCache.load(f);
        for (String k : keys) {
            assertEquals(sum, r.lookup(k, new WorkingFiles.FileStat(1, 2, 3, 5), HashType.SHA2_256_CHUNKED), k);
            assertNull(r.lookup(k, new WorkingFiles.FileStat(1, 2, 4, 5), HashType.SHA2_256_CHUNKED));
            assertNull(r.lookup(k, new WorkingFiles.FileStat(1, 2, 3, 6), HashType.SHA2_256_CHUNKED), "another ctime");
        }
        assertEquals(sum, r.lookup("before 1970", new WorkingFiles.FileStat(12345678901L, -2_000_000_000L, 7,
                -1_000_000_000L), HashType.SHA2_256_CHUNKED));
        // A line of an unknown hash type (a newer quiltfs) or a torn last line costs only its key.
        Files.writeString(f, Files.readString(f) + "1 2 3 5 md5 abc odd\n4 5");
        HashCache torn = HashCache.load(f);
        assertEquals(keys.size() + 1, torn.size());
        assertNull(torn.lookup("odd", new WorkingFiles.FileStat(1, 3, 2, 5), HashType.SHA2_256_CHUNKED));
        Files.writeString(f, "garbage");
        assertNull(HashCache.load(f).lookup("plain", new WorkingFiles.FileStat(1, 2, 3, 5), HashType.SHA2_256_CHUNKED));
    }

    /**
     * A cache of version 1 (lines without the ctime) is not trusted at all: its stats cannot say
     * whether a same-size file was rewritten and its mtime set back. It is rewritten in version 2.
     */
    @Test
    void aHashCacheWithoutChangeStampsIsReadAsEmpty() throws IOException {
        Path f = tmp.resolve("hc1");
        Files.writeString(f, "quiltfs-hashcache 1\n1 3 2 SHA2-256-CHUNKED 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= plain\n");
        HashCache c = HashCache.load(f);
        assertEquals(0, c.size());
        for (long stamp : new long[] {0, 3, 2}) {
            assertNull(c.lookup("plain", new WorkingFiles.FileStat(1, 2, 3, stamp), HashType.SHA2_256_CHUNKED));
        }
        c.save();
        assertTrue(Files.readString(f).startsWith("quiltfs-hashcache 2\n"), Files.readString(f));
    }

    @Test
    void stateTable() {
        PackageState s = new PackageState();
        s.base = "b";
        s.head = "b";
        assertEquals(Status.State.UP_TO_DATE, Status.state(s, "b"));
        assertEquals(Status.State.BEHIND, Status.state(s, "x"));
        s.head = "h";
        s.commits.add("h");
        assertEquals(Status.State.AHEAD, Status.state(s, "b"));
        assertEquals(Status.State.DIVERGED, Status.state(s, "x"));
        assertEquals(Status.State.UP_TO_DATE, Status.state(s, "h"));
        assertEquals(Status.State.AHEAD, Status.state(s, null), "no latest in the registry: a push creates it");
        s.head = "b";
        s.commits.clear();
        assertEquals(Status.State.LOCAL, Status.state(s, null), "no latest in the registry: only this home has it");
        s.base = null;
        assertEquals(Status.State.LOCAL, Status.state(s, null));
    }
}
