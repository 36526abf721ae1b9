package io.quiltfs.store.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.PackageState;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A pull that stops while it changes the working files (here: the disk fills up at the Nth
 * file) leaves a marker in the lineage; status tells its files from the user's edits, commit
 * and push refuse, and pulling again finishes it to the state a pull that never stopped makes.
 */
class PullTest {
    static final PackageName PKG = PackageName.parse("team/data");
    static final int NEW_FILES = 10;

    @TempDir
    Path tmp;

    Registry registry;
    Home alice;
    Home bob;

    @BeforeEach
    void homes() {
        alice = new Home(tmp.resolve("alice"));
        bob = new Home(tmp.resolve("bob"));
    }

    @AfterEach
    void close() throws IOException {
        InstalledPackage.detach(work(bob));
        if (registry != null) {
            registry.close();
        }
    }

    void seed(TestRegistries.Kind kind) throws IOException {
        registry = kind.open(kind.newRegistry(tmp));
        Path src = tmp.resolve("src");
        write(src.resolve("a.txt"), "alpha");
        write(src.resolve("data/b.csv"), "x,y\n1,2\n");
        write(src.resolve("docs/readme.md"), "# readme");
        Build.build(registry, PKG, src, "first", null, HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE);
        install(alice);
        install(bob);
    }

    /** Alice changes a.txt, removes data/b.csv and adds n/00..n/09, and pushes: the revision returned. */
    String alicePushesChanges(String tag) throws IOException {
        Path a = work(alice);
        write(a.resolve("a.txt"), "alpha " + tag);
        Files.deleteIfExists(a.resolve("data/b.csv"));
        for (int i = 0; i < NEW_FILES; i++) {
            write(a.resolve(String.format("n/%02d", i)), "new " + i + " " + tag);
        }
        assertTrue(commit(alice, tag).committed());
        assertTrue(push(alice).pushed());
        return registry.latest(PKG);
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

    void install(Home h) throws IOException {
        Install.install(h, registry, PackageRef.latest(PKG), null, null, sources(), Progress.NONE);
    }

    Path work(Home h) {
        return h.defaultWorkDir(PKG);
    }

    PackageState state(Home h) throws IOException {
        return InstalledPackage.require(h, PKG).state();
    }

    Status.Report status(Home h) throws IOException {
        return Status.report(InstalledPackage.require(h, PKG), registry, HashType.SHA2_256_CHUNKED);
    }

    Commit.Result commit(Home h, String msg) throws IOException {
        return Commit.commit(InstalledPackage.require(h, PKG), msg, null, HashType.SHA2_256_CHUNKED, Progress.NONE);
    }

    Push.Result push(Home h) throws IOException {
        return Push.push(InstalledPackage.require(h, PKG), registry, false, Clock.systemUTC(), Progress.NONE);
    }

    Pull.Result pull(Home h) throws IOException {
        return Pull.pull(InstalledPackage.require(h, PKG), registry, sources(), Progress.NONE);
    }

    /**
     * Bob's working folder, whose disk fills up at the {@code failAt}th file a pull places; the
     * key that could not be written is in {@code failed[0]}.
     */
    void diskFillsUpAt(int failAt, String[] failed) {
        WorkFolder folder = new WorkFolder(work(bob));
        AtomicInteger placed = new AtomicInteger();
        InstalledPackage.attach(work(bob), new WorkingFiles() {
            public Map<String, FileStat> scan() throws IOException { return folder.scan(); }
            public FileStat stat(String key) throws IOException { return folder.stat(key); }
            public Path path(String key) { return folder.path(key); }
            public void delete(String key) throws IOException { folder.delete(key); }
            public String describe() { return folder.describe(); }

            public FileStat place(String key, Path source) throws IOException {
                if (placed.incrementAndGet() == failAt) {
                    failed[0] = key;
                    throw new FileSystemException(folder.path(key).toString(), null, "No space left on device");
                }
                return folder.place(key, source);
            }
        });
    }

    /**
     * Bob's pull stops (the disk fills up) at the {@code failAt}th file it places, then the disk
     * has room again; returns the key that could not be written.
     */
    String pullStopsAt(int failAt) {
        String[] failed = {null};
        diskFillsUpAt(failAt, failed);
        assertThrows(Pull.Incomplete.class, () -> pull(bob));
        InstalledPackage.detach(work(bob));
        return failed[0];
    }

    /** Every file under {@code root} by its relative path, with its content. */
    static Map<String, String> tree(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (var s = Files.walk(root)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                out.put(root.relativize(f).toString(), Files.readString(f));
            }
        }
        return out;
    }

    /** A fresh install of the registry's latest, with {@code edits} on top: what bob should end with. */
    Map<String, String> latestWith(Map<String, String> edits) throws IOException {
        Home carol = new Home(tmp.resolve("carol-" + System.nanoTime()));
        install(carol);
        Map<String, String> t = tree(work(carol));
        t.putAll(edits);
        return t;
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aPullThatFailsWhilePlacingIsFinishedByPullingAgain(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        String base = registry.latest(PKG);
        String target = alicePushesChanges("2");
        write(work(bob).resolve("docs/readme.md"), "bob's edit");
        write(work(bob).resolve("bob.txt"), "bob's file");
        String[] failed = {null};
        diskFillsUpAt(4, failed);
        Pull.Incomplete e = assertThrows(Pull.Incomplete.class, () -> pull(bob));
        InstalledPackage.detach(work(bob)); // the disk has room again
        assertEquals(failed[0], e.key());
        assertTrue(e.getMessage().contains("'" + failed[0] + "' could not be written"), e.getMessage());
        assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
        assertTrue(e.getMessage().contains("run `quiltfs pull team/data` to finish it"), e.getMessage());
        assertEquals("bob's edit", Files.readString(work(bob).resolve("docs/readme.md")));
        assertEquals("bob's file", Files.readString(work(bob).resolve("bob.txt")));
        assertTrue(tree(work(bob)).keySet().stream().filter(k -> k.startsWith("n/")).count() >= 2,
                "the pull stopped half-way: " + tree(work(bob)).keySet());

        PackageState s = state(bob);
        assertEquals(target, s.pulling, "the marker names the revision being taken in");
        assertEquals(base, s.base, "the lineage has not moved");
        Status.Report r = status(bob);
        assertEquals(target, r.pulling());
        assertEquals(List.of("bob.txt"), r.changes().added(), "the pull's files are not the user's additions");
        assertEquals(List.of("docs/readme.md"), r.changes().modified());
        assertEquals(List.of(), r.changes().removed());

        ConflictException refused = assertThrows(ConflictException.class, () -> commit(bob, "a mix"));
        assertTrue(refused.getMessage().contains("the pull of team/data to " + target
                + " did not finish: run `quiltfs pull team/data` to finish it"), refused.getMessage());
        assertThrows(ConflictException.class, () -> push(bob));
        assertEquals(base, state(bob).head, "nothing was committed");

        Pull.Result done = pull(bob);
        assertTrue(done.pulled());
        assertTrue(done.message().startsWith("finished the interrupted pull"), done.message());
        assertEquals(latestWith(Map.of("docs/readme.md", "bob's edit", "bob.txt", "bob's file")), tree(work(bob)));
        s = state(bob);
        assertNull(s.pulling);
        assertEquals(target, s.base);
        assertEquals(target, s.head);
        assertTrue(s.commits.isEmpty());
        r = status(bob);
        assertEquals(Status.State.UP_TO_DATE, r.state());
        assertNull(r.pulling());
        assertEquals(List.of("bob.txt"), r.changes().added());
        assertEquals(List.of("docs/readme.md"), r.changes().modified());
        assertEquals(List.of(), r.changes().removed());
    }

    /**
     * Latest moved on while the pull was stopped, changing the files it had placed: pulling again
     * finishes the interrupted pull (its files are no conflicts), says so, and the next pull
     * takes the new latest in.
     */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void anInterruptedPullIsFinishedFirstWhenLatestMovedOn(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        String target = alicePushesChanges("2");
        String[] failed = {null};
        diskFillsUpAt(1 + NEW_FILES, failed); // the last of a.txt and n/*: all others are placed
        assertThrows(Pull.Incomplete.class, () -> pull(bob));
        InstalledPackage.detach(work(bob));
        String third = alicePushesChanges("3");

        Pull.Result done = pull(bob);
        assertEquals(target, done.head());
        assertTrue(done.message().contains("has moved on to " + third), done.message());
        assertEquals("alpha 2", Files.readString(work(bob).resolve("a.txt")));
        assertEquals(target, state(bob).base);
        assertEquals(third, state(bob).latestSeen);
        assertEquals(Status.State.BEHIND, status(bob).state());
        assertTrue(status(bob).changes().isEmpty());

        Pull.Result next = pull(bob);
        assertEquals(third, next.head());
        assertEquals(latestWith(Map.of()), tree(work(bob)));
        assertEquals(Status.State.UP_TO_DATE, status(bob).state());
    }

    /** With local commits, the interrupted pull is a merge: finished, it makes the merge a clean pull makes. */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void anInterruptedMergeIsFinishedIntoTheSameCommit(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        Home dave = new Home(tmp.resolve("dave"));
        install(dave);
        for (Home h : List.of(bob, dave)) {
            write(work(h).resolve("docs/readme.md"), "committed here");
            assertTrue(commit(h, "local work").committed());
        }
        String target = alicePushesChanges("2");
        Pull.Result clean = pull(dave);
        assertTrue(clean.merged());

        pullStopsAt(3);
        assertEquals(clean.head(), state(bob).pullingHead, "the marker names the merge it makes");
        assertTrue(status(bob).changes().isEmpty(), "no change is bob's: " + status(bob).changes());
        assertThrows(ConflictException.class, () -> commit(bob, "a mix"));

        Pull.Result done = pull(bob);
        assertTrue(done.merged());
        assertEquals(clean.head(), done.head());
        assertEquals(tree(work(dave)), tree(work(bob)));
        PackageState s = state(bob);
        assertEquals(target, s.base);
        assertEquals(List.of(clean.head()), s.commits);
        assertEquals(Status.State.AHEAD, status(bob).state());
        assertTrue(status(bob).changes().isEmpty());
        assertTrue(push(bob).pushed());
    }

    /**
     * A user edit, after the stop, of a file the pull takes in refuses the finishing pull, naming
     * it; once moved aside, the pull finishes. An install meanwhile refuses too.
     */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void anEditOfAPulledFileAfterTheStopIsAConflictThatNamesIt(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        alicePushesChanges("2");
        String stoppedAt = pullStopsAt(1 + NEW_FILES);
        String edited = stoppedAt.equals("a.txt") ? "n/00" : "a.txt"; // one the pull placed
        write(work(bob).resolve(edited), "edited after the stop");
        assertEquals(java.util.Set.of(edited), status(bob).changes().keys(), "only the edit is bob's");
        assertEquals(List.of(edited), status(bob).conflicts(), "status names what finishing refuses");
        assertThrows(ConflictException.class, () -> install(bob));
        ConflictException c = assertThrows(ConflictException.class, () -> pull(bob));
        assertTrue(c.getMessage().contains("cannot finish the interrupted pull of team/data"), c.getMessage());
        assertEquals(List.of(edited), c.keys());
        Files.move(work(bob).resolve(edited), tmp.resolve("aside"));
        assertTrue(pull(bob).pulled());
        assertEquals(latestWith(Map.of()), tree(work(bob)));
        assertNull(state(bob).pulling);
    }

    /** Something the user does while a pull runs. */
    interface Edit {
        void run() throws IOException;
    }

    /** Runs {@code edit} once, when bob's pull reaches {@code point}. */
    Pull.Result pullEditingAt(String point, Edit edit) throws IOException {
        boolean[] done = {false};
        Checkpoints.hook = name -> {
            if (name.equals(point) && !done[0]) {
                done[0] = true;
                try {
                    edit.run();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
        try {
            return pull(bob);
        } finally {
            Checkpoints.hook = null;
            assertTrue(done[0], "the pull reached " + point);
        }
    }

    /** Each key alice's push changes in one way (changed, removed, added), on each kind of registry for one. */
    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> editedKeys() {
        List<org.junit.jupiter.params.provider.Arguments> out = new java.util.ArrayList<>();
        for (TestRegistries.Kind k : TestRegistries.kinds()) {
            out.add(org.junit.jupiter.params.provider.Arguments.of(k, "a.txt"));
        }
        out.add(org.junit.jupiter.params.provider.Arguments.of(TestRegistries.LOCAL, "data/b.csv"));
        out.add(org.junit.jupiter.params.provider.Arguments.of(TestRegistries.LOCAL, "n/03"));
        return out.stream();
    }

    /**
     * An edit made in the working folder while the pull runs (after its check looked, before it
     * reached the file) is kept: the pull stops naming it, and finishing refuses it as a conflict
     * like any local change to a key the registry changed; moved aside, the pull finishes. Here: a
     * file the registry changed, one it removed, and one it adds, created here meanwhile.
     */
    @ParameterizedTest
    @MethodSource("editedKeys")
    void anEditMadeWhileThePullRunsIsKeptAndNamed(TestRegistries.Kind kind, String key) throws IOException {
        seed(kind);
        alicePushesChanges("2");
        Path w = work(bob);
        Pull.Incomplete stop = assertThrows(Pull.Incomplete.class, () -> pullEditingAt("pull.after-mark",
                () -> write(w.resolve(key), "bob's " + key)));
        assertEquals(key, stop.key());
        assertTrue(stop.keptAnEdit());
        assertTrue(stop.getMessage().startsWith("cannot pull team/data: '" + key + "' was "
                + (key.equals("n/03") ? "created" : "changed") + " while the pull ran, so it was kept as it is;"),
                stop.getMessage());
        assertTrue(stop.getMessage().contains("move your version aside"), stop.getMessage());
        assertEquals("bob's " + key, Files.readString(w.resolve(key)));
        assertTrue(state(bob).pulling != null, "the pull is marked unfinished");
        assertEquals(List.of(key), status(bob).conflicts(), "status names what finishing refuses");
        ConflictException c = assertThrows(ConflictException.class, () -> pull(bob));
        assertEquals(List.of(key), c.keys());
        assertEquals("bob's " + key, Files.readString(w.resolve(key)));
        Files.move(w.resolve(key), tmp.resolve("kept"));
        assertTrue(pull(bob).pulled());
        assertEquals(latestWith(Map.of()), tree(w));
        assertNull(state(bob).pulling);
        assertEquals("bob's " + key, Files.readString(tmp.resolve("kept")));
    }

    /** The pull with nothing edited meanwhile places and removes everything. */
    @org.junit.jupiter.api.Test
    void aPullWithNoEditMeanwhileChangesEveryFile() throws IOException {
        seed(TestRegistries.LOCAL);
        alicePushesChanges("2");
        assertTrue(pullEditingAt("pull.removing", () -> { }).pulled());
        assertEquals(latestWith(Map.of()), tree(work(bob)));
        assertFalse(Files.exists(work(bob).resolve("data")), "the folder the removal emptied is gone");
    }

    /**
     * A file the pull takes in, removed by the user after the stop: status says finishing puts it
     * back (not a plain removal), and the finishing pull puts it back and says so, naming it.
     */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aFileRemovedAfterTheStopIsPutBackAndNamed(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        alicePushesChanges("2");
        pullStopsAt(4);
        Files.deleteIfExists(work(bob).resolve("a.txt")); // placed by the pull, or not yet: either way it goes
        Status.Report r = status(bob);
        assertEquals(List.of("a.txt"), r.changes().removed());
        assertEquals(List.of("a.txt"), r.putBack(), "status says finishing puts it back");
        assertEquals(List.of(), r.conflicts());

        Pull.Result done = pull(bob);
        assertTrue(done.message().contains("put back 'a.txt', removed since the pull stopped: remove it again if you"
                + " meant to"), done.message());
        assertEquals(latestWith(Map.of()), tree(work(bob)));
        assertEquals(List.of(), status(bob).putBack());
    }

    /**
     * A file the pull adds (the head has no such key), placed before the stop and removed after
     * it: status names it under put back (it is no removal of a head key), and finishing puts it
     * back and says so, as for a removed head file. One of the range being placed at the stop
     * (not placed, or placed and removed: not to be told) is placed and named as such.
     */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void anAddedFileRemovedAfterTheStopIsPutBackAndNamed(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        alicePushesChanges("2");
        int was = Pull.batch;
        Pull.batch = 2;
        Install.Placer.inFlight = 1;
        try {
            // One file at a time: [a.txt n/00 n/01] recorded as may be placing up to n/01, then two
            // additions more per record: the 8th file, n/06, is in the range up to n/07.
            String failed = pullStopsAt(8);
            assertEquals("n/05", state(bob).pullPlaced);
            assertEquals("n/07", state(bob).pullPlacing);
            assertEquals("n/06", failed);
            Files.delete(work(bob).resolve("n/02"));
            Status.Report r = status(bob);
            assertEquals(List.of("n/02"), r.putBack());
            assertEquals(List.of(), r.changes().removed(), "not a key of the head");
            assertEquals(List.of(), r.conflicts());

            Pull.Result done = pull(bob);
            assertTrue(done.message().contains("; put back 'n/02', removed since the pull stopped: remove it again if"
                    + " you meant to"), done.message());
            assertTrue(done.message().contains(" of the range it was placing when it stopped"), done.message());
            assertTrue(done.placedOfBatch().contains(failed), done.placedOfBatch().toString());
            assertTrue(done.message().contains("'" + failed + "'"), "few: named " + done.message());
            assertFalse(done.message().contains("removed since: if you removed"), "no accusation: " + done.message());
            assertEquals(List.of("n/06", "n/07"), done.placedOfBatch());
            assertEquals(List.of("n/02"), done.putBack());
            assertFalse(done.message().contains("n/08"), "not placed yet, and not in the range it was placing");
            assertEquals(latestWith(Map.of()), tree(work(bob)));
            assertNull(state(bob).pullPlaced);
            assertNull(state(bob).pullPlacing);
        } finally {
            Pull.batch = was;
            Install.Placer.inFlight = 0;
        }
    }

    /**
     * A finishing pull that stops again before it gets past the range the first one was placing
     * keeps that range in the lineage: a file the first run placed there and the user removed is
     * still named when a third run finishes, never placed again without a word.
     */
    @org.junit.jupiter.api.Test
    void aSecondStopKeepsTheRangeTheFirstWasPlacing() throws IOException {
        seed(TestRegistries.LOCAL);
        alicePushesChanges("2");
        int was = Pull.batch;
        Pull.batch = 2;
        Install.Placer.inFlight = 1;
        try {
            // One file at a time, two additions more per record: the 8th file, n/06, is in the range up to n/07.
            pullStopsAt(8);
            assertEquals("n/05", state(bob).pullPlaced);
            assertEquals("n/07", state(bob).pullPlacing);
            deleteTree(work(bob).resolve("n"));
            pullStopsAt(1); // in the first range again, whose last addition is n/01
            assertEquals("n/05", state(bob).pullPlaced, "never moves back");
            assertEquals("n/07", state(bob).pullPlacing, "the first run's range stays unsure");

            Pull.Result done = pull(bob);
            for (String k : List.of("n/00", "n/01", "n/02", "n/03", "n/04", "n/05")) {
                assertTrue(done.message().contains("'" + k + "'"), k + ": " + done.message());
            }
            assertEquals(List.of("n/00", "n/01", "n/02", "n/03", "n/04", "n/05"), done.putBack());
            assertEquals(List.of("n/06", "n/07"), done.placedOfBatch(), done.message());
            assertEquals(latestWith(Map.of()), tree(work(bob)));
            assertNull(state(bob).pullPlacing);
        } finally {
            Pull.batch = was;
            Install.Placer.inFlight = 0;
        }
    }

    /**
     * Wherever the pull stops, a file it added that is removed after the stop is never placed
     * again without a word: named as put back, or as one of the range it was placing (named when
     * few, always in the result). At the stop every addition up to the recorded prefix is there,
     * none after the recorded range is.
     */
    @org.junit.jupiter.api.Test
    void noRemovedAdditionIsPlacedAgainSilentlyWhereverThePullStops() throws IOException {
        seed(TestRegistries.LOCAL);
        for (int failAt = 1; failAt <= 1 + NEW_FILES; failAt++) {
            install(new Home(tmp.resolve("bob-" + failAt)));
        }
        alicePushesChanges("2");
        int was = Pull.batch;
        Pull.batch = 3;
        try {
            for (int failAt = 1; failAt <= 1 + NEW_FILES; failAt++) {
                InstalledPackage.detach(work(bob));
                bob = new Home(tmp.resolve("bob-" + failAt));
                pullStopsAt(failAt);
                PackageState st = state(bob);
                assertTrue(st.pullPlacing != null, "stopped at " + failAt);
                for (int i = 0; i < NEW_FILES; i++) {
                    String k = String.format("n/%02d", i);
                    if (st.pullPlaced != null && k.compareTo(st.pullPlaced) <= 0) {
                        assertTrue(Files.exists(work(bob).resolve(k)), "stopped at " + failAt + ": " + k + " is placed");
                    }
                    if (k.compareTo(st.pullPlacing) > 0) {
                        assertFalse(Files.exists(work(bob).resolve(k)), "stopped at " + failAt + ": " + k + " not begun");
                    }
                }
                List<String> removed = new java.util.ArrayList<>();
                for (int i = 0; i < NEW_FILES; i++) {
                    if (Files.deleteIfExists(work(bob).resolve(String.format("n/%02d", i)))) {
                        removed.add(String.format("n/%02d", i));
                    }
                }
                List<String> putBack = status(bob).putBack();
                Pull.Result r = pull(bob);
                String message = r.message();
                for (String k : removed) {
                    assertTrue(r.putBack().contains(k) || r.placedOfBatch().contains(k), "stopped at " + failAt + ": "
                            + k + " " + message);
                    assertEquals(putBack.contains(k), r.putBack().contains(k), "stopped at " + failAt + ": " + k);
                    if (r.putBack().contains(k) || r.placedOfBatch().size() <= Pull.NAMED_OF_BATCH) {
                        assertTrue(message.contains("'" + k + "'"), "stopped at " + failAt + ": " + k + " " + message);
                    }
                    assertEquals(putBack.contains(k), message.contains("put back") && message.indexOf("'" + k + "'")
                            >= 0 && message.indexOf("'" + k + "'") < (message.contains(" of the range it was placing")
                            ? message.indexOf(" of the range it was placing") : message.length()),
                            "stopped at " + failAt + ": " + k + " " + message);
                }
                assertEquals(latestWith(Map.of()), tree(work(bob)));
            }
        } finally {
            Pull.batch = was;
            Install.Placer.inFlight = 0;
        }
    }

    /**
     * A pull that stops while one file is still being placed after the others: the lineage names
     * that file (and any other being placed then) as unsure, so the files placed after it and
     * removed since are put back and named, not merely counted as files of the unsure range.
     */
    @org.junit.jupiter.api.Test
    void aStopWhileALargeFileIsPlacedKeepsTheFilesPlacedAfterItKnown() throws Exception {
        seed(TestRegistries.LOCAL);
        alicePushesChanges("2");
        int was = Pull.batch;
        Pull.batch = 2;
        Install.Placer.inFlight = 2; // the slow file and one other
        WorkFolder folder = new WorkFolder(work(bob));
        java.util.concurrent.CountDownLatch lastPlaced = new java.util.concurrent.CountDownLatch(1);
        String last = String.format("n/%02d", NEW_FILES - 1);
        InstalledPackage.attach(work(bob), new WorkingFiles() {
            public Map<String, FileStat> scan() throws IOException { return folder.scan(); }
            public FileStat stat(String key) throws IOException { return folder.stat(key); }
            public Path path(String key) { return folder.path(key); }
            public void delete(String key) throws IOException { folder.delete(key); }
            public String describe() { return folder.describe(); }

            public FileStat place(String key, Path source) throws IOException {
                if (key.equals("n/00")) {
                    try {
                        lastPlaced.await(10, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    throw new FileSystemException(folder.path(key).toString(), null, "No space left on device");
                }
                FileStat st = folder.place(key, source);
                if (key.equals(last)) {
                    lastPlaced.countDown();
                }
                return st;
            }
        });
        try {
            assertThrows(Pull.Incomplete.class, () -> pull(bob));
        } finally {
            Pull.batch = was;
            Install.Placer.inFlight = 0;
            InstalledPackage.detach(work(bob));
        }
        PackageState st = state(bob);
        assertNull(st.pullPlaced);
        assertTrue(st.pullUnsure.contains("n/00"), st.pullUnsure.toString());
        assertTrue(st.pullUnsure.size() <= 2, st.pullUnsure.toString());
        List<String> known = new java.util.ArrayList<>();
        for (int i = 1; i < NEW_FILES; i++) {
            String k = String.format("n/%02d", i);
            assertTrue(Files.exists(work(bob).resolve(k)), k);
            Files.delete(work(bob).resolve(k));
            if (k.compareTo(st.pullBegun) <= 0 && !st.pullUnsure.contains(k)) {
                known.add(k);
            }
        }
        assertTrue(known.size() >= 5, "placed after the slow one, and known to be: " + known + " " + st.pullBegun);
        assertEquals(known, status(bob).putBack());
        Pull.Result done = pull(bob);
        assertEquals(known, done.putBack(), done.message());
        assertTrue(done.message().contains("put back '" + known.get(0) + "'"), done.message());
        assertTrue(done.placedOfBatch().contains("n/00"), done.placedOfBatch().toString());
        assertEquals(latestWith(Map.of()), tree(work(bob)));
        String lineage = Files.readString(bob.lineageFile());
        assertFalse(lineage.contains("pullBegun") || lineage.contains("pullUnsure"), "as a build before them wrote it: "
                + lineage);
    }

    /** How a test places one file into bob's working folder ({@code folder.place} does it). */
    interface Placing {
        WorkingFiles.FileStat place(WorkFolder folder, String key, Path source) throws IOException;
    }

    /** Bob's working folder, whose files are placed by {@code placing}. */
    void placesWith(Placing placing) {
        WorkFolder folder = new WorkFolder(work(bob));
        InstalledPackage.attach(work(bob), new WorkingFiles() {
            public Map<String, FileStat> scan() throws IOException { return folder.scan(); }
            public FileStat stat(String key) throws IOException { return folder.stat(key); }
            public Path path(String key) { return folder.path(key); }
            public void delete(String key) throws IOException { folder.delete(key); }
            public String describe() { return folder.describe(); }

            public FileStat place(String key, Path source) throws IOException {
                return placing.place(folder, key, source);
            }
        });
    }

    /** Alice adds {@code count} files m/000, m/001, ... and pushes. */
    void aliceAdds(int count) throws IOException {
        for (int i = 0; i < count; i++) {
            write(work(alice).resolve(String.format("m/%03d", i)), "m " + i);
        }
        assertTrue(commit(alice, "adds " + count).committed());
        assertTrue(push(alice).pushed());
    }

    static void await(java.util.concurrent.CountDownLatch latch) {
        try {
            latch.await(20, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A finishing pull that stops again before it places anything keeps what the first stop's
     * lineage knew beyond its prefix (pullBegun, pullUnsure): the files placed after a slow one
     * and removed since are still put back and named, not merely counted as "of the range".
     */
    @org.junit.jupiter.api.Test
    void aSecondStopWhileFinishingKeepsWhatTheFirstKnew() throws IOException {
        seed(TestRegistries.LOCAL);
        alicePushesChanges("2");
        int was = Pull.batch;
        Pull.batch = 2;
        Install.Placer.inFlight = 2; // the slow file and one other
        java.util.concurrent.CountDownLatch lastPlaced = new java.util.concurrent.CountDownLatch(1);
        String last = String.format("n/%02d", NEW_FILES - 1);
        placesWith((folder, key, source) -> {
            if (key.equals("n/00")) {
                await(lastPlaced);
                throw new FileSystemException(folder.path(key).toString(), null, "No space left on device");
            }
            WorkingFiles.FileStat st = folder.place(key, source);
            if (key.equals(last)) {
                lastPlaced.countDown();
            }
            return st;
        });
        try {
            assertThrows(Pull.Incomplete.class, () -> pull(bob));
            InstalledPackage.detach(work(bob));
            PackageState st = state(bob);
            assertEquals(List.of("n/00"), st.pullUnsure);
            List<String> known = new java.util.ArrayList<>();
            for (int i = 1; i < NEW_FILES; i++) {
                String k = String.format("n/%02d", i);
                Files.delete(work(bob).resolve(k));
                if (k.compareTo(st.pullBegun) <= 0) {
                    known.add(k);
                }
            }
            assertTrue(known.size() >= 5, known.toString());
            assertEquals(known, status(bob).putBack());

            Install.Placer.inFlight = 1;
            pullStopsAt(1); // n/00 again: nothing placed by this run
            PackageState again = state(bob);
            assertEquals(st.pullBegun, again.pullBegun, "never moves back while finishing");
            assertEquals(List.of("n/00"), again.pullUnsure);
            assertEquals(st.pullPlacing, again.pullPlacing);
            assertEquals(known, status(bob).putBack());

            Pull.Result done = pull(bob);
            assertEquals(known, done.putBack(), done.message());
            assertTrue(done.message().contains("put back '" + known.get(0) + "'"), done.message());
            assertTrue(done.placedOfBatch().contains("n/00"), done.placedOfBatch().toString());
            assertEquals(latestWith(Map.of()), tree(work(bob)));
        } finally {
            Pull.batch = was;
            Install.Placer.inFlight = 0;
        }
    }

    /**
     * A pull that fails records what it knows once every file it began has ended: the files it
     * placed after the last record are known (put back and named when removed), not "of the range".
     */
    @org.junit.jupiter.api.Test
    void aFailedPullRecordsWhatItPlaced() throws IOException {
        seed(TestRegistries.LOCAL);
        alicePushesChanges("2");
        Install.Placer.inFlight = 1;
        try {
            pullStopsAt(4); // a.txt, n/00, n/01 placed; n/02 could not be written
            PackageState st = state(bob);
            assertEquals("n/01", st.pullPlaced);
            assertEquals(String.format("n/%02d", NEW_FILES - 1), st.pullPlacing);
            Files.delete(work(bob).resolve("n/00"));
            Files.delete(work(bob).resolve("n/01"));
            Pull.Result done = pull(bob);
            assertEquals(List.of("n/00", "n/01"), done.putBack(), done.message());
            assertFalse(done.placedOfBatch().contains("n/00") || done.placedOfBatch().contains("n/01"), done.message());
            assertEquals(latestWith(Map.of()), tree(work(bob)));
        } finally {
            Install.Placer.inFlight = 0;
        }
    }

    /** After a file fails, the files queued behind it are not placed: the pull stops there. */
    @org.junit.jupiter.api.Test
    void filesQueuedWhenOneFailsAreNotPlaced() throws IOException {
        seed(TestRegistries.LOCAL);
        int count = 40;
        aliceAdds(count);
        Install.Placer.inFlight = count; // all queued at once
        AtomicInteger afterFailure = new AtomicInteger();
        boolean[] failed = {false};
        placesWith((folder, key, source) -> {
            if (key.equals("m/000")) {
                synchronized (failed) {
                    failed[0] = true;
                }
                throw new FileSystemException(folder.path(key).toString(), null, "No space left on device");
            }
            synchronized (failed) {
                if (failed[0]) {
                    afterFailure.incrementAndGet();
                }
            }
            return folder.place(key, source);
        });
        try {
            assertThrows(Pull.Incomplete.class, () -> pull(bob));
        } finally {
            Install.Placer.inFlight = 0;
            InstalledPackage.detach(work(bob));
        }
        // Only a file another thread took in the instant between the failure and the stop.
        assertTrue(afterFailure.get() < count / 2, afterFailure + " placed after the failure");
        assertTrue(pull(bob).pulled());
        assertEquals(latestWith(Map.of()), tree(work(bob)));
    }

    /**
     * An interrupt of the pull waits for the files being placed: none lands after the pull has
     * reported its stop, and the interrupt is kept for the caller.
     */
    @org.junit.jupiter.api.Test
    void anInterruptedPullWaitsForTheFilesBeingPlaced() throws Exception {
        seed(TestRegistries.LOCAL);
        alicePushesChanges("2");
        Install.Placer.inFlight = 2;
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean landed = new java.util.concurrent.atomic.AtomicBoolean();
        placesWith((folder, key, source) -> {
            if (key.equals("n/00")) {
                entered.countDown();
                await(release);
                WorkingFiles.FileStat st = folder.place(key, source);
                landed.set(true);
                return st;
            }
            return folder.place(key, source);
        });
        Thread puller = Thread.currentThread();
        Thread interrupter = new Thread(() -> {
            await(entered);
            puller.interrupt();
            try {
                Thread.sleep(300); // the pull, if it does not wait, has thrown by now
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            release.countDown();
        });
        interrupter.start();
        boolean stillInterrupted;
        boolean landedBeforeTheThrow;
        try {
            assertThrows(IOException.class, () -> pull(bob));
            landedBeforeTheThrow = landed.get();
            stillInterrupted = Thread.interrupted();
        } finally {
            release.countDown();
            interrupter.join();
            Thread.interrupted();
            Install.Placer.inFlight = 0;
            InstalledPackage.detach(work(bob));
        }
        assertTrue(landedBeforeTheThrow, "the file being placed landed before the pull reported its stop");
        assertTrue(stillInterrupted, "the interrupt is kept");
        assertTrue(pull(bob).pulled());
        assertEquals(latestWith(Map.of()), tree(work(bob)));
    }

    /**
     * More files begun and not placed than the lineage names (Pull.UNSURE): it names the first
     * ones, the range it vouches for ends at the last one named, every file it calls placed is
     * there, none past the range it may have begun is, and finishing puts back exactly the known
     * ones removed since. The record written at the failure fails here (the lineage lock is a
     * folder), as a kill would leave it, and the failure is still reported as such.
     */
    @org.junit.jupiter.api.Test
    void moreFilesBegunThanTheLineageNamesStayTrue() throws Exception {
        seed(TestRegistries.LOCAL);
        int count = 300;
        aliceAdds(count);
        int was = Pull.batch;
        Pull.batch = 50;
        Install.Placer.inFlight = 150;
        java.util.concurrent.CountDownLatch laterPlaced = new java.util.concurrent.CountDownLatch(1);
        Path lock = io.quiltfs.store.state.Lineage.lockFile(bob);
        placesWith((folder, key, source) -> {
            if (key.equals("m/000")) {
                await(laterPlaced);
                Files.deleteIfExists(lock);
                Files.createDirectory(lock); // no more lineage writes
                throw new FileSystemException(folder.path(key).toString(), null, "No space left on device");
            }
            // Held until the pull has begun 150 files (recorded up to m/149): many begun at once.
            for (int i = 0; i < 2000; i++) {
                PackageState now = state(bob);
                if (now.pullPlacing != null && now.pullPlacing.compareTo("m/149") >= 0) {
                    break;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            WorkingFiles.FileStat st = folder.place(key, source);
            if (key.equals("m/250")) {
                laterPlaced.countDown();
            }
            return st;
        });
        PackageState st;
        try {
            Pull.Incomplete e = assertThrows(Pull.Incomplete.class, () -> pull(bob));
            assertEquals("m/000", e.key());
            st = state(bob);
        } finally {
            Pull.batch = was;
            Install.Placer.inFlight = 0;
            InstalledPackage.detach(work(bob));
            Files.deleteIfExists(lock);
        }
        assertEquals(Pull.UNSURE, st.pullUnsure.size(), st.pullUnsure.toString());
        assertEquals("m/000", st.pullUnsure.get(0));
        assertEquals(st.pullUnsure.get(Pull.UNSURE - 1), st.pullBegun, "the range vouched for ends at the last named");
        assertTrue(st.pullBegun.compareTo(st.pullPlacing) < 0, st.pullBegun + " " + st.pullPlacing);
        List<String> known = new java.util.ArrayList<>();
        List<String> gone = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            String k = String.format("m/%03d", i);
            Pull.Placed said = Pull.placed(st, new java.util.HashSet<>(st.pullUnsure), k);
            boolean there = Files.exists(work(bob).resolve(k));
            if (said == Pull.Placed.SURELY) {
                assertTrue(there, k + " is said placed");
                known.add(k);
            } else if (said == Pull.Placed.NOT_BEGUN) {
                assertFalse(there, k + " is said not begun");
            }
            if (there) {
                Files.delete(work(bob).resolve(k));
                gone.add(k);
            }
        }
        assertTrue(known.size() >= 50, known.size() + " known");
        assertEquals(known, status(bob).putBack());
        Pull.Result done = pull(bob);
        assertEquals(known, done.putBack());
        List<String> maybe = new java.util.ArrayList<>(gone);
        maybe.removeAll(known);
        maybe.add("m/000");
        maybe.sort(null);
        assertTrue(done.placedOfBatch().containsAll(maybe), done.placedOfBatch().size() + " " + maybe.size());
        assertEquals(latestWith(Map.of()), tree(work(bob)));
    }

    /**
     * One slow file does not hold back the others: while the first addition is still being
     * placed, the pull goes on past it (there is no barrier every {@link Pull#batch} files), and
     * the lineage never claims the slow one placed before it is.
     */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aSlowFileDoesNotHoldBackTheOthers(TestRegistries.Kind kind) throws Exception {
        seed(kind);
        alicePushesChanges("2");
        int was = Pull.batch;
        Pull.batch = 2;
        WorkFolder folder = new WorkFolder(work(bob));
        java.util.concurrent.CountDownLatch lastPlaced = new java.util.concurrent.CountDownLatch(1);
        boolean[] wentOn = {false};
        PackageState[] whileSlow = {null};
        InstalledPackage.attach(work(bob), new WorkingFiles() {
            public Map<String, FileStat> scan() throws IOException { return folder.scan(); }
            public FileStat stat(String key) throws IOException { return folder.stat(key); }
            public Path path(String key) { return folder.path(key); }
            public void delete(String key) throws IOException { folder.delete(key); }
            public String describe() { return folder.describe(); }

            public FileStat place(String key, Path source) throws IOException {
                if (key.equals("n/00")) {
                    try {
                        wentOn[0] = lastPlaced.await(10, java.util.concurrent.TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                FileStat st = folder.place(key, source);
                if (key.equals(String.format("n/%02d", NEW_FILES - 1))) {
                    whileSlow[0] = state(bob);
                    lastPlaced.countDown();
                }
                return st;
            }
        });
        try {
            assertTrue(pull(bob).pulled());
        } finally {
            Pull.batch = was;
        }
        assertTrue(wentOn[0], "the last file was placed while the first addition was still being placed");
        assertTrue(whileSlow[0].pulling != null, "the pull is marked");
        assertNull(whileSlow[0].pullPlaced, "n/00 is not placed yet, so no addition is recorded as placed");
        assertEquals(String.format("n/%02d", NEW_FILES - 1), whileSlow[0].pullPlacing);
        assertTrue(whileSlow[0].pullUnsure.contains("n/00"), "named as begun and not placed: " + whileSlow[0].pullUnsure);
        assertTrue(whileSlow[0].pullBegun.compareTo("n/00") > 0, whileSlow[0].pullBegun);
        assertEquals(latestWith(Map.of()), tree(work(bob)));
        assertNull(state(bob).pulling);
    }

    /**
     * A pull that cannot finish (its new objects gone from the registry and from the cache) says
     * `--abandon`; abandoning puts the head's content back on the keys it changed, keeps the local
     * commit and the edits made since (one in the way is refused, named), and clears the marker.
     */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void anUnfinishablePullIsAbandonedBackToTheHead(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        write(work(bob).resolve("docs/readme.md"), "committed here");
        assertTrue(commit(bob, "local work").committed());
        String head = state(bob).head;
        String target = alicePushesChanges("2");
        write(work(bob).resolve("bob.txt"), "bob's file");
        Map<String, String> before = tree(work(bob));
        pullStopsAt(4);
        assertTrue(!Files.exists(work(bob).resolve("data/b.csv")), "the pull removed it before it stopped");

        if (kind.name().equals("local")) {
            // The revision's new objects are gone from the registry, and from bob's cache.
            for (io.quiltfs.store.manifest.Entry e : InstalledPackage.require(bob, PKG).manifest(target, null)
                    .entries()) {
                if (e.logicalKey().startsWith("n/")) {
                    Files.deleteIfExists(Path.of(java.net.URI.create(e.physicalKey().replaceFirst("\\?.*$", ""))));
                }
            }
            deleteTree(bob.objects());
            Exception nf = assertThrows(io.quiltfs.store.registry.RegistryException.NotFound.class, () -> pull(bob));
            assertTrue(nf.getMessage().contains("`quiltfs pull team/data --abandon`"), nf.getMessage());
            assertEquals(target, state(bob).pulling);
        }

        String placed = tree(work(bob)).keySet().stream().filter(k -> k.startsWith("n/")).findFirst().orElseThrow();
        write(work(bob).resolve(placed), "edited after the stop");
        write(work(bob).resolve("data/b.csv/mine"), "in the way");
        ConflictException c = assertThrows(ConflictException.class,
                () -> Pull.abandon(InstalledPackage.require(bob, PKG), registry, sources(), Progress.NONE));
        assertEquals(List.of("data/b.csv/mine"), c.keys(), c.getMessage());
        assertEquals(target, state(bob).pulling, "nothing changed");
        Files.delete(work(bob).resolve("data/b.csv/mine"));
        Files.delete(work(bob).resolve("data/b.csv"));

        Pull.Result r = Pull.abandon(InstalledPackage.require(bob, PKG), registry, sources(), Progress.NONE);
        assertTrue(r.message().startsWith("abandoned the pull of team/data to " + target), r.message());
        // Gone where the revision removes it: the pull's removal, or one bob made since; named.
        assertTrue(r.message().contains("put back 'data/b.csv' (removed by the pull, or by you since it stopped):"
                + " remove it again if you meant to; other edits"), r.message());
        Map<String, String> expected = new TreeMap<>(before);
        expected.put(placed, "edited after the stop");
        assertEquals(expected, tree(work(bob)));
        PackageState s = state(bob);
        assertNull(s.pulling);
        assertNull(s.pullingHead);
        assertEquals(head, s.head);
        assertEquals(List.of(head), s.commits);
        Status.Report st = status(bob);
        assertEquals(List.of(placed, "bob.txt").stream().sorted(io.quiltfs.store.manifest.LogicalKey.WALK_ORDER)
                .toList(), st.changes().added());
        assertEquals(List.of(), st.changes().modified());
        assertEquals(List.of(), st.changes().removed());
        assertTrue(Pull.abandon(InstalledPackage.require(bob, PKG), registry, sources(), Progress.NONE).message()
                .startsWith("nothing to abandon"));
    }

    /** Finishing checks that it makes the head the marker names; another one is refused, not made. */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void finishingRefusesAHeadOtherThanTheMarkedOne(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        String base = registry.latest(PKG);
        alicePushesChanges("2");
        pullStopsAt(4);
        io.quiltfs.store.state.Lineage.update(bob, l -> {
            PackageState n = l.get(PKG);
            n.pullingHead = base; // not what finishing makes
            l.put(PKG, n);
            return null;
        });
        ConflictException c = assertThrows(ConflictException.class, () -> pull(bob));
        assertTrue(c.getMessage().contains("--abandon"), c.getMessage());
        assertEquals(base, state(bob).head);
    }

    /**
     * A damaged latest while a pull is unfinished: status still reports the local changes, the
     * unfinished pull and what finishing puts back, with the state unknown and the pointer named.
     */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void statusWithADamagedLatestStillShowsTheLocalChanges(TestRegistries.Kind kind) throws IOException {
        seed(kind);
        String target = alicePushesChanges("2");
        pullStopsAt(4);
        Files.deleteIfExists(work(bob).resolve("a.txt"));
        write(work(bob).resolve("mine.txt"), "mine");
        Files.writeString(TestRegistries.backing(registry.uri(), ".quilt/named_packages/team/data/latest"),
                "not a hash");
        Status.Report r = status(bob);
        assertTrue(r.damaged() != null && r.damaged().key().equals(".quilt/named_packages/team/data/latest"),
                String.valueOf(r.damaged()));
        assertNull(r.state());
        assertNull(r.latest());
        assertEquals(target, r.pulling());
        assertEquals(List.of("mine.txt"), r.changes().added());
        assertEquals(List.of("a.txt"), r.changes().removed());
        assertEquals(List.of("a.txt"), r.putBack());
        assertEquals(List.of(), r.conflicts(), "finishing does not need latest: what it refuses is known");

        Pull.Result done = pull(bob); // finishing does not need latest either
        assertNull(state(bob).pulling);
        Status.Report after = status(bob);
        assertNull(after.state());
        assertNull(after.conflicts(), "what a pull of latest would refuse is not known");
        assertEquals(List.of("mine.txt"), after.changes().added());
        assertTrue(done.message().contains("put back 'a.txt'"), done.message());
    }

    /** A damaged latest does not stop the finishing of an interrupted pull, which does not need it. */
    @org.junit.jupiter.api.Test
    void aDamagedLatestDoesNotStopFinishing() throws IOException {
        seed(TestRegistries.LOCAL);
        String target = alicePushesChanges("2");
        pullStopsAt(4);
        Path latest = Path.of(java.net.URI.create(registry.uri())).resolve(".quilt/named_packages/team/data/latest");
        Files.writeString(latest, "not a hash");
        assertThrows(io.quiltfs.store.registry.RegistryException.BadPointer.class, () -> registry.latest(PKG));
        Pull.Result done = pull(bob);
        assertEquals(target, done.head());
        assertNull(state(bob).pulling);
        assertTrue(done.message().contains(registry.uri() + "'s latest is damaged: ")
                && done.message().contains("(`quiltfs push team/data --force` replaces it)"), done.message());
        // Not "no latest": the last one seen is the one the stopped pull began with.
        assertEquals(target, state(bob).latestSeen);
        assertEquals(Status.State.UP_TO_DATE, Status.report(InstalledPackage.require(bob, PKG), null,
                io.quiltfs.store.hash.HashType.SHA2_256_CHUNKED).state());
    }

    /**
     * The unfinished pull's manifest gone from the home: status and abandon bring it back from the
     * registry; gone there too, status reports (conflicts unknown, the pull's files as changes,
     * what to do) instead of failing, and abandon refuses with what to do.
     */
    @org.junit.jupiter.api.Test
    void anUnfinishedPullWhoseManifestIsGone() throws IOException {
        seed(TestRegistries.LOCAL);
        String target = alicePushesChanges("2");
        pullStopsAt(4);
        Path kept = bob.cachedManifest(io.quiltfs.store.state.Home.registryId(state(bob).registry), target);
        assertTrue(Files.isRegularFile(kept));

        Files.delete(kept);
        Status.Report r = status(bob);
        assertFalse(r.pullUntold());
        assertEquals(List.of(), r.conflicts());
        assertTrue(r.changes().isEmpty(), "the pull's files told apart again: " + r.changes());
        Files.delete(kept);
        Pull.Result a = Pull.abandon(InstalledPackage.require(bob, PKG), registry, sources(), Progress.NONE);
        assertTrue(a.message().startsWith("abandoned the pull of team/data to " + target), a.message());
        assertNull(state(bob).pulling);
    }

    @org.junit.jupiter.api.Test
    void anUnfinishedPullWhoseManifestIsGoneEverywhere() throws IOException {
        seed(TestRegistries.LOCAL);
        String target = alicePushesChanges("2");
        pullStopsAt(4);
        Files.delete(bob.cachedManifest(io.quiltfs.store.state.Home.registryId(state(bob).registry), target));
        Files.delete(Path.of(java.net.URI.create(registry.uri())).resolve(".quilt/packages/" + target));

        Status.Report r = status(bob);
        assertTrue(r.pullUntold());
        assertNull(r.conflicts());
        assertFalse(r.changes().isEmpty(), "the pull's files are among the changes");
        assertTrue(Status.report(InstalledPackage.require(bob, PKG), null, HashType.SHA2_256_CHUNKED).pullUntold());
        Exception e = assertThrows(io.quiltfs.store.registry.RegistryException.NotFound.class,
                () -> Pull.abandon(InstalledPackage.require(bob, PKG), registry, sources(), Progress.NONE));
        assertTrue(e.getMessage().contains("nothing was changed") && e.getMessage().contains(
                "`quiltfs uninstall team/data --force` and install it again (that loses your unpushed commits"),
                e.getMessage());
        assertFalse(e.getMessage().contains("run `quiltfs pull"), e.getMessage());
        assertEquals(target, state(bob).pulling);
    }

    /** Abandoning when the head's content is gone from the cache and the registry: refused, saying what to do. */
    @org.junit.jupiter.api.Test
    void abandonWithTheHeadsContentGoneSaysWhatToDo() throws IOException {
        seed(TestRegistries.LOCAL);
        alicePushesChanges("2");
        pullStopsAt(4);
        assertFalse(Files.exists(work(bob).resolve("data/b.csv")), "the pull removed it before it stopped");
        String pk = InstalledPackage.require(bob, PKG).head().get("data/b.csv").physicalKey();
        Files.delete(Path.of(java.net.URI.create(pk.replaceFirst("\\?.*$", ""))));
        deleteTree(bob.objects());
        Exception e = assertThrows(io.quiltfs.store.registry.RegistryException.NotFound.class,
                () -> Pull.abandon(InstalledPackage.require(bob, PKG), registry, sources(), Progress.NONE));
        assertTrue(e.getMessage().contains("your head's content is missing") && e.getMessage().contains(
                "restore it, or run `quiltfs uninstall team/data --force` and install it again (that loses"),
                e.getMessage());
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var s = Files.walk(root)) {
            for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }
}
