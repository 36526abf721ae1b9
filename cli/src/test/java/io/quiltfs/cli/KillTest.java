package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.state.PackageState;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kills real quiltfs processes (SIGKILL) at named points of commit, push, pull and install, then
 * checks that lineage, cache and registry are consistent and that running the command again
 * completes it. The child JVM stops at a point when QUILTFS_TEST_PAUSE_AT names it.
 */
class KillTest {
    static final PackageName PKG = PackageName.parse("t/p");

    @TempDir
    Path tmp;

    String reg;
    TestRegistries.Kind kind;
    Path home;
    Path work;

    void setUp(TestRegistries.Kind kind) throws IOException {
        this.kind = kind;
        reg = kind.newRegistry(tmp);
        Path src = tmp.resolve("src");
        Files.createDirectories(src.resolve("d"));
        Files.writeString(src.resolve("a.txt"), "alpha");
        Files.writeString(src.resolve("d/b.txt"), "beta");
        assertEquals(0, WorkflowCommandsTest.run("build", "t/p", src.toString(), "-r", reg, "-m", "first").code());
        home = tmp.resolve("home");
        assertEquals(0, cli("install", "t/p", "-r", reg).code());
        work = new Home(home).defaultWorkDir(PKG);
    }

    WorkflowCommandsTest.Run cli(String... args) {
        List<String> a = new ArrayList<>(List.of("--home", home.toString()));
        a.addAll(List.of(args));
        return WorkflowCommandsTest.run(a.toArray(new String[0]));
    }

    /** Runs quiltfs in a child JVM until it reaches {@code point}, then kills it with SIGKILL. */
    void killAt(String point, String... args) throws Exception {
        Path marker = tmp.resolve("paused-" + point);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "io.quiltfs.cli.Main", "--home", home.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("child-" + point + ".log").toFile());
        pb.environment().putAll(kind.environment());
        pb.environment().put("QUILTFS_TEST_PAUSE_AT", point);
        pb.environment().put("QUILTFS_TEST_PAUSE_FILE", marker.toString());
        Process p = pb.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.exists(marker)) {
                if (!p.isAlive()) {
                    throw new AssertionError("quiltfs exited (" + p.exitValue() + ") before reaching " + point + ": "
                            + Files.readString(tmp.resolve("child-" + point + ".log")));
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("quiltfs never reached " + point);
                }
                Thread.sleep(20);
            }
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    PackageState state() throws IOException {
        return Lineage.read(new Home(home)).get(PKG);
    }

    String latest() throws IOException {
        try (Registry r = Registries.open(reg, S3Settings.defaults())) {
            return r.latest(PKG);
        }
    }

    String status() {
        return cli("--json", "status", "t/p").json().get("state").asText();
    }

    @ParameterizedTest
    @ValueSource(strings = {"commit.after-objects", "commit.after-manifest"})
    void commitKilled(String point) throws Exception {
        setUp(TestRegistries.LOCAL);
        PackageState before = state();
        Files.writeString(work.resolve("a.txt"), "changed");
        Files.writeString(work.resolve("new.txt"), "new");
        killAt(point, "commit", "t/p", "-m", "second");
        assertEquals(before.head, state().head, "the lineage does not move before the commit is whole");
        assertEquals("UpToDate", status());
        var again = cli("commit", "t/p", "-m", "second");
        assertEquals(0, again.code(), again.err());
        assertEquals("Ahead", status());
        assertEquals(1, state().commits.size());
        assertTrue(cli("--json", "status", "t/p").json().get("modified").isEmpty());
    }

    static List<String> pushPoints() {
        return List.of("push.after-data", "push.after-manifest", "push.before-latest", "push.after-latest");
    }

    @ParameterizedTest
    @MethodSource("pushPoints")
    void pushKilled(String point) throws Exception {
        setUp(TestRegistries.LOCAL);
        String base = latest();
        Files.writeString(work.resolve("a.txt"), "changed");
        assertEquals(0, cli("commit", "t/p", "-m", "second").code());
        String head = state().head;
        killAt(point, "push", "t/p");
        if (point.equals("push.after-latest")) {
            assertEquals(head, latest());
            assertEquals(1, state().commits.size(), "the lineage moves after latest");
            assertEquals("UpToDate", status());
        } else {
            assertEquals(base, latest(), "a push killed before its last step never moves latest");
            assertEquals("Ahead", status());
        }
        if (point.equals("push.before-latest")) {
            Thread.sleep(1100); // the run again picks its timestamp pointer in a later second
        }
        var again = cli("push", "t/p");
        assertEquals(0, again.code(), again.err());
        assertEquals(head, latest());
        PackageState s = state();
        assertEquals(head, s.base);
        assertTrue(s.commits.isEmpty());
        assertEquals("UpToDate", status());
        try (var registry = TestRegistries.LOCAL.open(reg)) {
            long pointers = registry.revisions(PKG).stream().filter(r -> r.topHash().equals(head)).count();
            assertEquals(1, pointers, "one timestamp pointer for the revision, however often its push ran");
        }
        // Pushed, the head's rows point at the registry, not at the object cache (which may
        // trim what no unpushed commit uses).
        Path objects = new Home(home).objects();
        for (var e : io.quiltfs.store.manifest.ManifestReader.read(new Home(home).installedManifest(PKG, head))
                .entries()) {
            var pk = io.quiltfs.store.registry.PhysicalKey.parse(e.physicalKey());
            assertFalse(pk.isFile() && pk.filePath().startsWith(objects), e.logicalKey() + ": " + e.physicalKey());
        }
        // What was pushed is readable by anyone.
        Path other = tmp.resolve("other");
        assertEquals(0, WorkflowCommandsTest.run("--home", tmp.resolve("h2").toString(), "install", "t/p", "-r", reg,
                "--dest", other.toString()).code());
        assertEquals("changed", Files.readString(other.resolve("a.txt")));
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void pullKilledAfterWritingFiles(TestRegistries.Kind kind) throws Exception {
        setUp(kind);
        Path h2 = tmp.resolve("h2");
        Path w2 = tmp.resolve("w2");
        assertEquals(0, WorkflowCommandsTest.run("--home", h2.toString(), "install", "t/p", "-r", reg, "--dest",
                w2.toString()).code());
        Files.writeString(w2.resolve("a.txt"), "from h2");
        Files.delete(w2.resolve("d/b.txt"));
        assertEquals(0, WorkflowCommandsTest.run("--home", h2.toString(), "commit", "t/p", "-m", "h2").code());
        assertEquals(0, WorkflowCommandsTest.run("--home", h2.toString(), "push", "t/p").code());
        killAt("pull.after-files", "pull", "t/p");
        assertEquals("from h2", Files.readString(work.resolve("a.txt")));
        assertEquals("Behind", status());
        var again = cli("pull", "t/p");
        assertEquals(0, again.code(), again.err());
        assertEquals("UpToDate", status());
        assertFalse(Files.exists(work.resolve("d/b.txt")));
        assertTrue(cli("--json", "status", "t/p").json().get("modified").isEmpty());
    }

    static final int NEW_FILES = 20;

    /**
     * Another home pushes a revision that changes a.txt, removes d/b.txt and adds n/00..n/19;
     * before that, {@code twin} (a third home) installs the same revision as this one, to pull it
     * without stopping. Returns the pushed revision.
     */
    String anotherHomePushes(Path twin, Path twinWork) throws IOException {
        assertEquals(0, WorkflowCommandsTest.run("--home", twin.toString(), "install", "t/p", "-r", reg, "--dest",
                twinWork.toString()).code());
        Path h2 = tmp.resolve("h2");
        Path w2 = tmp.resolve("w2");
        assertEquals(0, WorkflowCommandsTest.run("--home", h2.toString(), "install", "t/p", "-r", reg, "--dest",
                w2.toString()).code());
        Files.writeString(w2.resolve("a.txt"), "from h2");
        Files.delete(w2.resolve("d/b.txt"));
        Files.createDirectories(w2.resolve("n"));
        for (int i = 0; i < NEW_FILES; i++) {
            Files.writeString(w2.resolve(String.format("n/%02d", i)), "new " + i);
        }
        assertEquals(0, WorkflowCommandsTest.run("--home", h2.toString(), "commit", "t/p", "-m", "h2").code());
        assertEquals(0, WorkflowCommandsTest.run("--home", h2.toString(), "push", "t/p").code());
        return latest();
    }

    static java.util.Map<String, String> tree(Path root) throws IOException {
        java.util.Map<String, String> out = new java.util.TreeMap<>();
        try (var s = Files.walk(root)) {
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                out.put(root.relativize(f).toString(), Files.readString(f));
            }
        }
        return out;
    }

    /** What status reports of the working files and the state, without where they are. */
    static com.fasterxml.jackson.databind.JsonNode statusOf(WorkflowCommandsTest.Run r) {
        var j = (com.fasterxml.jackson.databind.node.ObjectNode) r.json();
        j.remove("work_dir");
        return j;
    }

    static List<org.junit.jupiter.params.provider.Arguments> pullPoints() {
        List<org.junit.jupiter.params.provider.Arguments> out = new ArrayList<>();
        for (TestRegistries.Kind k : TestRegistries.kinds()) {
            for (String point : List.of("pull.after-mark", "pull.removing", "pull.after-deletions", "pull.placing",
                    "pull.after-files")) {
                out.add(org.junit.jupiter.params.provider.Arguments.of(k, point));
            }
        }
        return out;
    }

    /**
     * A pull killed anywhere after it began to change the working folder: status says so and does
     * not list its files as edits, commit and push refuse, and pulling again ends where a pull
     * that never stopped ends (the user's own edit untouched).
     */
    @ParameterizedTest
    @MethodSource("pullPoints")
    void pullKilledWhileChangingFilesIsFinishedByPullingAgain(TestRegistries.Kind kind, String point)
            throws Exception {
        setUp(kind);
        Path twin = tmp.resolve("twin");
        Path twinWork = tmp.resolve("twin-work");
        String target = anotherHomePushes(twin, twinWork);
        for (Path w : List.of(work, twinWork)) {
            Files.writeString(w.resolve("mine.txt"), "my own edit");
        }
        killAt(point, "pull", "t/p");
        assertEquals("my own edit", Files.readString(work.resolve("mine.txt")));
        if (point.equals("pull.after-deletions")) {
            assertFalse(Files.exists(work.resolve("d/b.txt")));
            assertFalse(Files.exists(work.resolve("n")), "nothing placed yet");
        }
        if (point.equals("pull.placing")) {
            assertTrue(Files.isDirectory(work.resolve("n")), "some files placed");
        }
        assertEquals(target, state().pulling);

        var status = cli("status", "t/p");
        assertEquals(0, status.code(), status.err());
        assertTrue(status.out().contains("the pull of t/p to " + target
                + " did not finish: run `quiltfs pull t/p` to finish it"), status.out());
        var json = cli("--json", "status", "t/p").json();
        assertEquals(target, json.get("pull_unfinished").asText());
        assertEquals("[\"mine.txt\"]", json.get("added").toString(), "the pull's files are not the user's edits");
        assertTrue(json.get("modified").isEmpty(), json.toString());
        assertTrue(json.get("removed").isEmpty(), json.toString());
        var commit = cli("commit", "t/p", "-m", "a half-pulled mix");
        assertEquals(ExitCodes.CONFLICT, commit.code(), commit.err());
        assertTrue(commit.err().contains("did not finish: run `quiltfs pull t/p` to finish it"), commit.err());
        assertEquals(ExitCodes.CONFLICT, cli("push", "t/p").code());

        var again = cli("pull", "t/p");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("finished the interrupted pull"), again.out());
        var clean = WorkflowCommandsTest.run("--home", twin.toString(), "pull", "t/p");
        assertEquals(0, clean.code(), clean.err());
        assertEquals(tree(twinWork), tree(work));
        PackageState s = state();
        PackageState t = Lineage.read(new Home(twin)).get(PKG);
        assertEquals(null, s.pulling);
        assertEquals(List.of(t.base, t.head, t.commits), List.of(s.base, s.head, s.commits));
        assertEquals(statusOf(WorkflowCommandsTest.run("--home", twin.toString(), "--json", "status", "t/p")),
                statusOf(cli("--json", "status", "t/p")));
        assertEquals("UpToDate", status());
    }

    /**
     * A file the pull added, removed after the pull was killed: finishing never places it again
     * without a word. Killed once every file was placed, the lineage says so: status lists it
     * under put back and finishing names it as put back; killed while placing, each removed one is
     * named (put back, or one of the range it was placing, which cannot be told from not placed).
     */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void anAddedFileRemovedAfterAKillIsNamedWhenThePullFinishes(TestRegistries.Kind kind) throws Exception {
        setUp(kind);
        Path twin = tmp.resolve("twin");
        Path twinWork = tmp.resolve("twin-work");
        anotherHomePushes(twin, twinWork);
        killAt("pull.after-files", "pull", "t/p");
        Files.delete(work.resolve("n/03"));
        var json = cli("--json", "status", "t/p").json();
        assertEquals("[\"n/03\"]", json.get("put_back").toString(), json.toString());
        assertTrue(json.get("removed").isEmpty(), "not a key of the head: " + json);
        var text = cli("status", "t/p");
        assertTrue(text.out().contains("  put back: n/03"), text.out());
        var again = cli("pull", "t/p");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("put back 'n/03', removed since the pull stopped"), again.out());
        assertEquals("new 3", Files.readString(work.resolve("n/03")));

        // The next revision adds four files, and the pull is killed while placing them.
        Path h2 = tmp.resolve("h2");
        Path w2 = tmp.resolve("w2");
        Files.createDirectories(w2.resolve("m"));
        for (int i = 0; i < 4; i++) {
            Files.writeString(w2.resolve("m/" + i), "more " + i);
        }
        assertEquals(0, WorkflowCommandsTest.run("--home", h2.toString(), "commit", "t/p", "-m", "more").code());
        assertEquals(0, WorkflowCommandsTest.run("--home", h2.toString(), "push", "t/p").code());
        killAt("pull.placing", "pull", "t/p");
        List<String> removed = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            if (Files.deleteIfExists(work.resolve("m/" + i))) {
                removed.add("m/" + i);
            }
        }
        assertFalse(removed.isEmpty(), "the pull had placed some");
        var done = cli("pull", "t/p");
        assertEquals(0, done.code(), done.err());
        for (String k : removed) {
            assertTrue(done.out().contains("'" + k + "'"), k + " is named: " + done.out());
        }
        for (int i = 0; i < 4; i++) {
            assertEquals("more " + i, Files.readString(work.resolve("m/" + i)));
        }
    }

    /**
     * A pull killed as it records its second range of additions, its added files removed, and the
     * pull that finishes it killed while placing: each kill leaves every addition up to the recorded
     * prefix placed and none after the recorded range begun; the lineage keeps the first one's
     * unsure range (it does not shrink to the second run's), and the third run names what it puts
     * back and counts the range's files, listing both in full in --json.
     */
    @org.junit.jupiter.api.Test
    void aSecondKillKeepsTheRangeTheFirstWasPlacing() throws Exception {
        setUp(TestRegistries.LOCAL);
        Path h2 = tmp.resolve("h2");
        Path w2 = tmp.resolve("w2");
        assertEquals(0, WorkflowCommandsTest.run("--home", h2.toString(), "install", "t/p", "-r", reg, "--dest",
                w2.toString()).code());
        Files.createDirectories(w2.resolve("n"));
        for (int i = 0; i < 600; i++) {
            Files.writeString(w2.resolve(String.format("n/%04d", i)), "n " + i);
        }
        assertEquals(0, WorkflowCommandsTest.run("--home", h2.toString(), "commit", "t/p", "-m", "many").code());
        assertEquals(0, WorkflowCommandsTest.run("--home", h2.toString(), "push", "t/p").code());

        killAt("pull.later-batch", "pull", "t/p");
        String placed = state().pullPlaced;
        assertEquals("n/0511", state().pullPlacing, "256 more additions may begin once this is recorded");
        assertRecordHolds(600, true);
        try (var s = Files.walk(work.resolve("n"))) {
            for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
        killAt("pull.placing", "pull", "t/p");
        PackageState s2 = state();
        String placed2 = s2.pullPlaced;
        String placing2 = s2.pullPlacing;
        assertTrue(placed == null || (placed2 != null && placed2.compareTo(placed) >= 0), "never moves back: "
                + placed + " then " + placed2);
        assertTrue(placing2.compareTo("n/0511") >= 0, "the first run's range stays unsure: " + placing2);
        assertRecordHolds(600, false); // up to the prefix: placed by the first run, removed since
        List<String> putBack = new ArrayList<>();
        List<String> unsure = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            String k = String.format("n/%04d", i);
            if (!Files.exists(work.resolve(k)) && k.compareTo(placing2) <= 0) {
                boolean known = (placed2 != null && k.compareTo(placed2) <= 0) || (s2.pullBegun != null
                        && k.compareTo(s2.pullBegun) <= 0 && (s2.pullUnsure == null || !s2.pullUnsure.contains(k)));
                (known ? putBack : unsure).add(k);
            }
        }

        var done = cli("--json", "pull", "t/p");
        assertEquals(0, done.code(), done.err());
        var j = done.json();
        assertTrue(j.get("message").asText().contains(unsure.size() + " files of the range it was placing when it"
                + " stopped were placed (any you removed since are back)"), j.get("message").asText());
        List<String> listed = new ArrayList<>();
        j.get("placed_of_batch").forEach(k -> listed.add(k.asText()));
        assertEquals(unsure, listed);
        List<String> back = new ArrayList<>();
        j.get("put_back").forEach(k -> back.add(k.asText()));
        assertEquals(putBack, back, "every file put back, however many");
        if (putBack.size() > 10) {
            assertTrue(j.get("message").asText().contains(" and " + (putBack.size() - 10) + " more, removed since the"
                    + " pull stopped"), j.get("message").asText());
        }
        assertEquals("n 300", Files.readString(work.resolve("n/0300")));
        assertEquals(null, state().pullPlacing);
    }

    /**
     * What the lineage says of a pull that stopped placing {@code n} added files n/0000...: each up
     * to its recorded prefix, and each up to the recorded begun one but those named unsure, is
     * placed ({@code untouched}: none removed since), none after its recorded range has begun.
     */
    void assertRecordHolds(int n, boolean untouched) throws IOException {
        PackageState s = state();
        for (int i = 0; i < n; i++) {
            String k = String.format("n/%04d", i);
            if (untouched && s.pullPlaced != null && k.compareTo(s.pullPlaced) <= 0) {
                assertEquals("n " + i, Files.readString(work.resolve(k)), k + " is placed: up to " + s.pullPlaced);
            }
            if (untouched && s.pullBegun != null && k.compareTo(s.pullBegun) <= 0
                    && (s.pullUnsure == null || !s.pullUnsure.contains(k))) {
                assertEquals("n " + i, Files.readString(work.resolve(k)), k + " is placed: up to " + s.pullBegun
                        + " but " + s.pullUnsure);
            }
            if (s.pullPlacing == null || k.compareTo(s.pullPlacing) > 0) {
                assertFalse(Files.exists(work.resolve(k)), k + " has not begun: after " + s.pullPlacing);
            }
        }
    }

    /**
     * A package edited through a mount (not mounted now: the verbs open its working area in
     * process): a pull killed while it places files into the area is finished by pulling again,
     * and meanwhile status counts none of them as edits and commit refuses.
     */
    @org.junit.jupiter.api.Test
    void pullIntoAMountsAreaKilledWhilePlacingIsFinishedByPullingAgain() throws Exception {
        kind = TestRegistries.LOCAL;
        reg = kind.newRegistry(tmp);
        Path src = tmp.resolve("src");
        Files.createDirectories(src.resolve("d"));
        Files.writeString(src.resolve("a.txt"), "alpha");
        Files.writeString(src.resolve("d/b.txt"), "beta");
        var b = WorkflowCommandsTest.run("build", "t/p", src.toString(), "-r", reg, "-m", "first");
        assertEquals(0, b.code(), b.err());
        home = tmp.resolve("home");
        Home h = new Home(home);
        assertEquals(null, MountEditing.claim(h, reg, PKG, b.out().strip()).readOnlyReason());
        Files.createDirectories(h.mountArea(PKG).resolve("files"));
        Files.writeString(h.mountArea(PKG).resolve("lock"), "");
        String target = anotherHomePushes(tmp.resolve("twin"), tmp.resolve("twin-work"));

        killAt("pull.placing", "pull", "t/p");
        assertEquals(target, state().pulling);
        var json = cli("--json", "status", "t/p").json();
        assertEquals(target, json.get("pull_unfinished").asText(), json.toString());
        assertTrue(json.get("added").isEmpty() && json.get("modified").isEmpty() && json.get("removed").isEmpty(),
                json.toString());
        assertEquals(ExitCodes.CONFLICT, cli("commit", "t/p", "-m", "a half-pulled mix").code());

        var again = cli("pull", "t/p");
        assertEquals(0, again.code(), again.out() + again.err());
        assertEquals(null, state().pulling);
        assertEquals(target, state().base);
        assertEquals(target, state().head);
        json = cli("--json", "status", "t/p").json();
        assertEquals("UpToDate", json.get("state").asText());
        assertTrue(json.get("added").isEmpty() && json.get("modified").isEmpty() && json.get("removed").isEmpty(),
                json.toString());
    }

    /** With a local commit, the pull killed half-way is a merge: finished, it is the merge a clean pull makes. */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void mergingPullKilledWhilePlacingIsFinishedByPullingAgain(TestRegistries.Kind kind) throws Exception {
        setUp(kind);
        Path twin = tmp.resolve("twin");
        Path twinWork = tmp.resolve("twin-work");
        String target = anotherHomePushes(twin, twinWork);
        for (Path w : List.of(work, twinWork)) {
            Files.writeString(w.resolve("mine.txt"), "my own work");
        }
        assertEquals(0, cli("commit", "t/p", "-m", "mine").code());
        assertEquals(0, WorkflowCommandsTest.run("--home", twin.toString(), "commit", "t/p", "-m", "mine").code());
        killAt("pull.placing", "pull", "t/p");
        assertEquals(target, state().pulling);
        assertEquals(1, state().commits.size());
        var json = cli("--json", "status", "t/p").json();
        assertTrue(json.get("added").isEmpty() && json.get("modified").isEmpty() && json.get("removed").isEmpty(),
                json.toString());
        var again = cli("pull", "t/p");
        assertEquals(0, again.code(), again.err());
        var clean = WorkflowCommandsTest.run("--home", twin.toString(), "pull", "t/p");
        assertEquals(0, clean.code(), clean.err());
        assertEquals(tree(twinWork), tree(work));
        PackageState s = state();
        PackageState t = Lineage.read(new Home(twin)).get(PKG);
        assertEquals(List.of(t.base, t.head, t.commits), List.of(s.base, s.head, s.commits));
        assertEquals(target, s.base);
        assertEquals(1, s.commits.size());
        assertEquals("Ahead", status());
        var push = cli("push", "t/p");
        assertEquals(0, push.code(), push.err());
        assertEquals(s.head, latest());
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void installKilledAfterRegistering(TestRegistries.Kind kind) throws Exception {
        setUp(kind);
        Path h2 = tmp.resolve("h2");
        Path w2 = tmp.resolve("w2");
        home = h2;
        killAt("install.after-lineage", "install", "t/p", "-r", reg, "--dest", w2.toString());
        assertEquals(w2.toString(), state().workDir);
        var again = cli("install", "t/p");
        assertEquals(0, again.code(), again.err());
        assertEquals("alpha", Files.readString(w2.resolve("a.txt")));
        assertEquals("UpToDate", status());
    }

    /** A kill between creating a state file's temporary copy and renaming it leaves no stray file for good. */
    @org.junit.jupiter.api.Test
    void installKilledWhileKeepingTheManifestLeavesNoTemporaryFile() throws Exception {
        setUp(TestRegistries.LOCAL);
        home = tmp.resolve("h2");
        Path w2 = tmp.resolve("w2");
        killAt("install.manifest-staged", "install", "t/p", "-r", reg, "--dest", w2.toString());
        assertFalse(temporaryFiles().isEmpty(), "the kill left the manifest's temporary copy");
        var again = cli("install", "t/p", "-r", reg, "--dest", w2.toString());
        assertEquals(0, again.code(), again.err());
        assertEquals("alpha", Files.readString(w2.resolve("a.txt")));
        assertEquals(List.of(), temporaryFiles());
    }

    List<Path> temporaryFiles() throws IOException {
        try (var s = Files.walk(home)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    /**
     * An uninstall killed after it decided (its working folder partly deleted, say) is finished
     * by running it again, and meanwhile refuses the other verbs: no folder or local manifests
     * are left that no command knows about.
     */
    @org.junit.jupiter.api.Test
    void uninstallKilledHalfWayIsFinishedByRunningItAgain() throws Exception {
        setUp(TestRegistries.LOCAL);
        killAt("uninstall.after-mark", "uninstall", "t/p");
        Files.delete(work.resolve("a.txt")); // as the deletion of the folder would have begun
        var status = cli("status", "t/p");
        assertEquals(ExitCodes.CONFLICT, status.code(), status.err());
        assertTrue(status.err().contains("run `quiltfs uninstall t/p` to finish it"), status.err());
        assertEquals(ExitCodes.CONFLICT, cli("commit", "t/p", "-m", "x").code());
        var again = cli("uninstall", "t/p");
        assertEquals(0, again.code(), again.err());
        assertFalse(Files.exists(work));
        assertFalse(Files.exists(home.resolve(".quilt/installed/t/p")));
        assertEquals(null, state());
        var install = cli("install", "t/p", "-r", reg);
        assertEquals(0, install.code(), install.err());
        assertEquals("alpha", Files.readString(work.resolve("a.txt")));
    }

    /**
     * {@code pull --abandon} killed half-way leaves the marker; run again, it ends with the head's
     * files back (the user's own file untouched) and the package no longer pulling.
     */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void abandonKilledHalfWayIsFinishedByAbandoningAgain(TestRegistries.Kind kind) throws Exception {
        setUp(kind);
        String head = state().head;
        String target = anotherHomePushes(tmp.resolve("twin"), tmp.resolve("twin-work"));
        Files.writeString(work.resolve("mine.txt"), "my own edit");
        java.util.Map<String, String> before = tree(work);
        killAt("pull.placing", "pull", "t/p");
        assertEquals(target, state().pulling);
        var json = cli("--json", "status", "t/p").json();
        assertEquals("[]", json.get("conflicts").toString(), "finishing would go through: " + json);

        killAt("pull.abandon-after-deletions", "pull", "--abandon", "t/p");
        assertEquals(target, state().pulling, "killed before the files were back: still marked");
        var again = cli("pull", "t/p", "--abandon");
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("abandoned the pull of t/p to " + target), again.out());
        assertEquals(before, tree(work));
        PackageState s = state();
        assertEquals(null, s.pulling);
        assertEquals(head, s.head);
        json = cli("--json", "status", "t/p").json();
        assertEquals("[\"mine.txt\"]", json.get("added").toString(), json.toString());
        assertTrue(json.get("modified").isEmpty() && json.get("removed").isEmpty(), json.toString());
        assertTrue(json.get("pull_unfinished").isNull(), json.toString());
        assertEquals("Behind", status());
    }

    /** A package edited through a mount (not mounted now): {@code pull --abandon} goes the mount's way and works. */
    @org.junit.jupiter.api.Test
    void abandonOfAPullIntoAMountsArea() throws Exception {
        kind = TestRegistries.LOCAL;
        reg = kind.newRegistry(tmp);
        Path src = tmp.resolve("src");
        Files.createDirectories(src.resolve("d"));
        Files.writeString(src.resolve("a.txt"), "alpha");
        Files.writeString(src.resolve("d/b.txt"), "beta");
        var b = WorkflowCommandsTest.run("build", "t/p", src.toString(), "-r", reg, "-m", "first");
        assertEquals(0, b.code(), b.err());
        home = tmp.resolve("home");
        Home h = new Home(home);
        assertEquals(null, MountEditing.claim(h, reg, PKG, b.out().strip()).readOnlyReason());
        Files.createDirectories(h.mountArea(PKG).resolve("files"));
        Files.writeString(h.mountArea(PKG).resolve("lock"), "");
        String head = state().head;
        String target = anotherHomePushes(tmp.resolve("twin"), tmp.resolve("twin-work"));

        killAt("pull.placing", "pull", "t/p");
        assertEquals(target, state().pulling);
        var r = cli("pull", "t/p", "--abandon");
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals(null, state().pulling);
        assertEquals(head, state().head);
        var json = cli("--json", "status", "t/p").json();
        assertTrue(json.get("added").isEmpty() && json.get("modified").isEmpty() && json.get("removed").isEmpty(),
                json.toString());
        assertEquals("Behind", json.get("state").asText());
        // The files the abandon put back are the head's rows again, not copies holding their bytes.
        assertEquals(0, MountEditing.changedKeys(h.mountArea(PKG)));
        var u = cli("uninstall", "t/p");
        assertEquals(0, u.code(), u.out() + u.err());
    }
}
