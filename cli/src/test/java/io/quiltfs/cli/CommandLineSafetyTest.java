package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.Lineage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a new user's mistakes and a damaged registry do: refused, one line, nothing half-done. */
class CommandLineSafetyTest {
    @TempDir
    Path tmp;

    String reg;
    String home;

    @BeforeEach
    void registry() throws IOException {
        reg = tmp.resolve("reg").toString();
        Files.createDirectories(Path.of(reg));
        Path src = tmp.resolve("src");
        Files.createDirectories(src.resolve("data"));
        Files.writeString(src.resolve("a.txt"), "alpha");
        Files.writeString(src.resolve("data/b.csv"), "b");
        home = tmp.resolve("home").toString();
        CliRunner.Result b = CliRunner.run("--home", home, "build", "t/p", src.toString(), "-r", reg, "-m", "first");
        assertEquals(0, b.code(), b.err());
        assertEquals(0, CliRunner.run("--home", home, "build", "x/y", src.toString(), "-r", reg, "-m", "x").code());
    }

    private static JsonNode json(CliRunner.Result r) {
        return Json.parse(r.out());
    }

    private String head(String pkg) throws IOException {
        var s = Lineage.read(new Home(Path.of(home))).get(PackageName.parse(pkg));
        return s == null ? null : s.head;
    }

    @Test
    void aWorkingFolderThatIsGoneIsNotCommittedAsAnEmptyRevision() throws IOException {
        assertEquals(0, CliRunner.run("--home", home, "install", "t/p", "-r", reg).code());
        Path work = Path.of(home, "work", "t", "p");
        String before = head("t/p");
        try (Stream<Path> s = Files.walk(work)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }

        CliRunner.Result st = CliRunner.run("--home", home, "status", "t/p");
        assertEquals(ExitCodes.NOT_FOUND, st.code(), st.out());
        assertTrue(st.err().contains("does not exist") && st.err().contains("quiltfs install t/p"), st.err());
        CliRunner.Result c = CliRunner.run("--home", home, "--json", "commit", "t/p", "-m", "oops");
        assertEquals(ExitCodes.NOT_FOUND, c.code(), c.out());
        assertEquals("not_found", json(c).get("error").get("kind").asText());
        assertEquals(before, head("t/p"), "no revision was recorded");

        CliRunner.Result again = CliRunner.run("--home", home, "install", "t/p");
        assertEquals(0, again.code(), again.err());
        assertEquals("alpha", Files.readString(work.resolve("a.txt")), "install puts the files back");
        assertTrue(CliRunner.run("--home", home, "status", "t/p").out().contains("nothing to commit"));

        Files.delete(work.resolve("a.txt"));
        Files.delete(work.resolve("data/b.csv"));
        Files.delete(work.resolve("data"));
        Files.delete(work);
        CliRunner.Result u = CliRunner.run("--home", home, "uninstall", "t/p");
        assertEquals(0, u.code(), "nothing uncommitted can be lost with the folder gone: " + u.err());
        assertNull(head("t/p"));
    }

    @Test
    void aFileWhereTheWorkingFolderWasIsNeverDeleted() throws IOException {
        assertEquals(0, CliRunner.run("--home", home, "install", "t/p", "-r", reg).code());
        Path work = Path.of(home, "work", "t", "p");
        try (Stream<Path> s = Files.walk(work)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        Files.writeString(work, "the user's notes");

        CliRunner.Result st = CliRunner.run("--home", home, "status", "t/p");
        assertEquals(1, st.err().lines().count(), st.err());
        assertTrue(st.code() != 0 && st.err().contains("is not a folder"), st.err());
        CliRunner.Result u = CliRunner.run("--home", home, "uninstall", "t/p");
        assertEquals(ExitCodes.CONFLICT, u.code(), "it cannot tell what would be lost: " + u.err());
        CliRunner.Result forced = CliRunner.run("--home", home, "uninstall", "--force", "t/p");
        assertEquals(0, forced.code(), forced.err());
        assertNull(head("t/p"), "forgotten");
        assertEquals("the user's notes", Files.readString(work), "not the package's, so not deleted");
    }

    @Test
    void aKeyThatLooksLikeATemporaryNameIsThePackagesFile() throws IOException {
        Path src = tmp.resolve("src2");
        Files.createDirectories(src);
        Files.writeString(src.resolve(".quiltfs-tmp-notes-99999999"), "kept");
        assertEquals(0, CliRunner.run("--home", home, "build", "t/q", src.toString(), "-r", reg, "-m", "q").code());
        assertEquals(0, CliRunner.run("--home", home, "install", "t/q", "-r", reg).code());
        Path f = Path.of(home, "work", "t", "q", ".quiltfs-tmp-notes-99999999");
        CliRunner.Result st = CliRunner.run("--home", home, "status", "t/q");
        assertTrue(st.out().contains("nothing to commit"), st.out() + st.err());
        assertEquals("kept", Files.readString(f), "a scan does not take it for a dead process's temporary file");
    }

    @Test
    void aWorkingFolderInsideAnotherPackagesIsRefused() throws IOException {
        Path outer = Path.of(home, "work");
        CliRunner.Result i = CliRunner.run("--home", home, "install", "t/p", "-r", reg, "--dest", outer.toString());
        assertEquals(0, i.code(), i.err());
        CliRunner.Result inner = CliRunner.run("--home", home, "install", "x/y", "-r", reg);
        assertEquals(ExitCodes.CONFLICT, inner.code(), inner.out());
        assertTrue(inner.err().contains("inside the working folder of t/p") && inner.err().contains("--dest"),
                inner.err());
        assertEquals(1, inner.err().lines().count(), inner.err());
        assertNull(head("x/y"), "not registered");
        assertFalse(Files.exists(outer.resolve("x")), "nothing written into t/p's folder");
        assertTrue(CliRunner.run("--home", home, "status", "t/p").out().contains("nothing to commit"));

        // The same folder through a symbolic link is still inside.
        Path link = tmp.resolve("link");
        Files.createSymbolicLink(link, outer);
        CliRunner.Result viaLink = CliRunner.run("--home", home, "install", "x/y", "-r", reg, "--dest",
                link.resolve("sub").toString());
        assertEquals(ExitCodes.CONFLICT, viaLink.code(), viaLink.out());
        assertTrue(viaLink.err().contains("inside the working folder of t/p"), viaLink.err());
        assertFalse(Files.exists(outer.resolve("sub")), "no folder left behind");
        assertNull(head("x/y"), "not registered");
    }

    /**
     * At a terminal (`script` gives one) install draws its bar on stderr; with stderr sent to a
     * file the bar is not drawn, so the file gets no control codes.
     */
    @Test
    void theProgressBarIsDrawnOnlyWhenStderrIsATerminal() throws Exception {
        Process probe = new ProcessBuilder("script", "-qec", "true", "/dev/null").redirectErrorStream(true).start();
        org.junit.jupiter.api.Assumptions.assumeTrue(probe.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)
                && probe.exitValue() == 0, "this machine gives no pseudo-terminal");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cmd = "'" + java + "' -cp '" + System.getProperty("java.class.path") + "' io.quiltfs.cli.Main --home '"
                + home + "' install t/p -r '" + reg + "' --dest '%s'";
        Path typescript = tmp.resolve("typescript");
        Path err = tmp.resolve("err.log");
        runInTerminal(String.format(cmd, tmp.resolve("w1")), typescript);
        assertTrue(Files.readString(typescript).contains("\r\033[K"), "a terminal gets the bar: "
                + Files.readString(typescript));
        assertEquals(0, CliRunner.run("--home", home, "uninstall", "t/p").code());
        runInTerminal(String.format(cmd, tmp.resolve("w2")) + " 2>'" + err + "'", typescript);
        assertTrue(Files.readString(typescript).contains("installed t/p@"), Files.readString(typescript));
        assertEquals("", Files.readString(err), "no bar, no control codes in the log");
    }

    private static void runInTerminal(String command, Path typescript) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("script", "-qefc", command, typescript.toString())
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE);
        pb.environment().remove("CI");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
    }

    @Test
    void usageErrorsAnswerJsonToo() {
        for (String[] args : new String[][] {
            {"--json", "install"}, {"install", "--json"}, {"--json", "nosuch"}, {"--json", "commit", "t/p", "--nope"}}) {
            CliRunner.Result r = CliRunner.run(args);
            assertEquals(ExitCodes.USAGE, r.code(), String.join(" ", args));
            JsonNode e = json(r).get("error");
            assertEquals("usage", e.get("kind").asText(), r.out());
            assertEquals(ExitCodes.USAGE, e.get("exit_code").asInt());
            assertFalse(e.get("message").asText().isBlank());
        }
        CliRunner.Result text = CliRunner.run("install");
        assertEquals(ExitCodes.USAGE, text.code());
        assertEquals("", text.out(), "no JSON without --json");
    }

    @Test
    void aBadPathGlobIsOneLineNamingIt() throws IOException {
        CliRunner.Result r = CliRunner.run("--home", home, "install", "t/p", "-r", reg, "--path", "data/[");
        assertEquals(ExitCodes.USAGE, r.code(), r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("--path") && r.err().contains("'data/['"), r.err());
        assertNull(head("t/p"), "not registered");

        CliRunner.Result none = CliRunner.run("--home", home, "install", "t/p", "-r", reg, "--path", "nomatch");
        assertEquals(ExitCodes.NOT_FOUND, none.code());
        assertTrue(none.err().contains("a.txt, data/"), "names what there is: " + none.err());
    }

    @Test
    void aLatestThatNamesAMissingManifestSaysSo() throws IOException {
        Path pointer = Path.of(reg, ".quilt", "named_packages", "t", "p", "latest");
        String top = Files.readString(pointer).trim();
        Files.delete(Path.of(reg, ".quilt", "packages", top));
        CliRunner.Result r = CliRunner.run("--home", home, "install", "t/p", "-r", reg);
        assertEquals(ExitCodes.NOT_FOUND, r.code(), r.out());
        assertTrue(r.err().contains("latest of t/p") && r.err().contains(top) && r.err().contains("browse"),
                r.err());
        assertNull(head("t/p"), "not registered");
        assertFalse(Files.exists(Path.of(home, "work", "t", "p")));

        CliRunner.Result browse = CliRunner.run("--home", home, "--json", "browse", reg, "t/p");
        assertEquals(0, browse.code(), "browse lists what there is: " + browse.err());
        assertTrue(browse.err().contains("warning: latest of t/p") && browse.err().contains("manifest is missing"),
                browse.err());
        assertTrue(json(browse).get("latest_problem").asText().contains(top), browse.out());

        // A latest without a timestamp pointer is not in the list of revisions: browse names it.
        String other = "f".repeat(64);
        Files.writeString(pointer, other);
        Files.writeString(Path.of(reg, ".quilt", "packages", other), "{}\n");
        CliRunner.Result unlisted = CliRunner.run("--home", home, "browse", reg, "t/p");
        assertEquals(0, unlisted.code(), unlisted.err());
        assertTrue(unlisted.err().contains("no timestamp pointer") && unlisted.err().contains(other), unlisted.err());
    }

    @Test
    void aRegistryFolderThatDoesNotExistIsNamedSo() {
        String missing = tmp.resolve("no-such-registry").toString();
        CliRunner.Result r = CliRunner.run("--home", home, "install", "t/p", "-r", missing);
        assertEquals(ExitCodes.NOT_FOUND, r.code(), r.out());
        assertTrue(r.err().contains("no registry at") && r.err().contains("not a folder"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void statusWithoutItsS3RegistryPointsAtOffline() throws IOException {
        String bucket = io.quiltfs.store.testing.TestRegistries.S3.newRegistry(tmp);
        Path src = tmp.resolve("src");
        assertEquals(0, CliRunner.run("--home", home, "build", "s/q", src.toString(), "-r", bucket, "-m", "m").code());
        assertEquals(0, CliRunner.run("--home", home, "install", "s/q", "-r", bucket).code());
        Files.writeString(Path.of(home, "work", "s", "q", "a.txt"), "edited");
        CliRunner.Result r = CliRunner.run("--home", home, "--endpoint", "http://127.0.0.1:9", "status", "s/q");
        assertEquals(ExitCodes.FAILURE, r.code(), r.out());
        assertTrue(r.err().contains("cannot reach") && r.err().contains("quiltfs status s/q --offline"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        CliRunner.Result off = CliRunner.run("--home", home, "--endpoint", "http://127.0.0.1:9", "status", "s/q",
                "--offline");
        assertEquals(0, off.code(), off.err());
        assertTrue(off.out().contains("modified: a.txt"), off.out());
    }

    @Test
    void aTagGoesToTheRevisionTheReferenceNames() throws IOException {
        String first = Files.readString(Path.of(reg, ".quilt", "named_packages", "t", "p", "latest")).trim();
        Files.writeString(tmp.resolve("src/a.txt"), "second");
        assertEquals(0, CliRunner.run("--home", home, "build", "t/p", tmp.resolve("src").toString(), "-r", reg,
                "-m", "second").code());
        CliRunner.Result t = CliRunner.run("--home", home, "--json", "tag", "t/p@" + first.substring(0, 8), "v1",
                "-r", reg);
        assertEquals(0, t.code(), t.err());
        assertEquals(first, json(t).get("top_hash").asText(), "the revision named, not latest");
        CliRunner.Result again = CliRunner.run("--home", home, "tag", "t/p:v1", "v2", "-r", reg);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains(first), again.out());
        CliRunner.Result move = CliRunner.run("--home", home, "tag", "t/p", "v1", "-r", reg);
        assertEquals(ExitCodes.CONFLICT, move.code(), "a tag that names another revision moves only with --force");
        assertTrue(move.err().contains("--force") && move.err().contains(first), move.err());
        CliRunner.Result forced = CliRunner.run("--home", home, "--json", "tag", "t/p", "v1", "--force", "-r", reg);
        assertEquals(0, forced.code(), forced.err());
        assertNotEquals(first, json(forced).get("top_hash").asText(), "moved to latest");
        for (String h : new String[] {"abcdef" + "0".repeat(58), "abcdef" + "1".repeat(58)}) {
            Files.writeString(Path.of(reg, ".quilt", "packages", h), "{}\n");
        }
        CliRunner.Result ambiguous = CliRunner.run("--home", home, "tag", "t/p", "v4", "abcdef", "-r", reg);
        assertEquals(ExitCodes.USAGE, ambiguous.code(), "an ambiguous prefix is the command line's to fix");
        assertTrue(ambiguous.err().contains("ambiguous") && ambiguous.err().contains("give more digits"),
                ambiguous.err());

        CliRunner.Result twice = CliRunner.run("--home", home, "tag", "t/p@" + first, "v3", "abcdef", "-r", reg);
        assertEquals(ExitCodes.USAGE, twice.code());
        assertTrue(twice.err().contains("once"), twice.err());
        assertEquals(ExitCodes.USAGE, CliRunner.run("--home", home, "tag", "--delete", "t/p:v1", "v1", "-r", reg).code());
        assertEquals(ExitCodes.USAGE, CliRunner.run("--home", home, "tag", "t/p:v1", "-r", reg).code());
        CliRunner.Result log = CliRunner.run("--home", home, "log", "t/p:v1", "-r", reg);
        assertEquals(ExitCodes.USAGE, log.code(), "log lists every revision; it does not take one");
        assertTrue(log.err().contains("quiltfs log t/p"), log.err());
    }

    @Test
    void aFileHereWhereTheRegistryNowHasAFolderIsAConflictNotAHalfPull() throws IOException {
        String other = tmp.resolve("other").toString();
        assertEquals(0, CliRunner.run("--home", other, "install", "t/p", "-r", reg).code());
        assertEquals(0, CliRunner.run("--home", home, "install", "t/p", "-r", reg).code());
        Path theirs = Path.of(other, "work", "t", "p");
        Files.createDirectories(theirs.resolve("new"));
        Files.writeString(theirs.resolve("new/x.txt"), "theirs");
        Files.writeString(theirs.resolve("z.txt"), "theirs too");
        assertEquals(0, CliRunner.run("--home", other, "commit", "t/p", "-m", "folder").code());
        assertEquals(0, CliRunner.run("--home", other, "push", "t/p").code());

        Path ours = Path.of(home, "work", "t", "p");
        Files.writeString(ours.resolve("new"), "ours, a file");
        String before = head("t/p");
        CliRunner.Result r = CliRunner.run("--home", home, "--json", "pull", "t/p");
        assertEquals(ExitCodes.CONFLICT, r.code(), r.out());
        assertEquals("[\"new\",\"new/x.txt\"]", json(r).get("error").get("keys").toString());
        assertEquals("ours, a file", Files.readString(ours.resolve("new")));
        assertFalse(Files.exists(ours.resolve("z.txt")), "nothing was changed");
        assertEquals(before, head("t/p"));

        assertEquals(0, CliRunner.run("--home", home, "commit", "t/p", "-m", "file").code());
        CliRunner.Result committed = CliRunner.run("--home", home, "pull", "t/p");
        assertEquals(ExitCodes.CONFLICT, committed.code(), "a merge cannot hold both: " + committed.err());
        assertTrue(committed.err().contains("'new', 'new/x.txt'"), committed.err());
    }

    @Test
    void finishingAKilledInstallRemovesItsPartialCopies() throws Exception {
        assertEquals(0, CliRunner.run("--home", home, "install", "t/p", "-r", reg).code());
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        // What a kill -9 in the middle of copying a file leaves: the install unfinished, and a
        // temporary file named after the dead process.
        Lineage.update(new Home(Path.of(home)), l -> {
            var s = l.get(PackageName.parse("t/p"));
            s.installing = true;
            l.put(PackageName.parse("t/p"), s);
            return null;
        });
        Path partial = Path.of(home, "work", "t", "p", "data", ".quiltfs-tmp-7-" + gone.pid());
        Files.write(partial, new byte[4096]);
        Files.delete(Path.of(home, "work", "t", "p", "a.txt"));

        CliRunner.Result r = CliRunner.run("--home", home, "install", "t/p");
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(partial), "the partial copy is gone");
        assertEquals("alpha", Files.readString(Path.of(home, "work", "t", "p", "a.txt")));
    }

    @Test
    void pullWaitsForAnUnfinishedInstall() throws Exception {
        assertEquals(0, CliRunner.run("--home", home, "install", "t/p", "-r", reg).code());
        String other = tmp.resolve("other").toString();
        assertEquals(0, CliRunner.run("--home", other, "install", "t/p", "-r", reg).code());
        Files.writeString(Path.of(other, "work", "t", "p", "a.txt"), "theirs");
        assertEquals(0, CliRunner.run("--home", other, "commit", "t/p", "-m", "theirs").code());
        assertEquals(0, CliRunner.run("--home", other, "push", "t/p").code());
        // An install killed before it placed a.txt.
        Lineage.update(new Home(Path.of(home)), l -> {
            var s = l.get(PackageName.parse("t/p"));
            s.installing = true;
            l.put(PackageName.parse("t/p"), s);
            return null;
        });
        Files.delete(Path.of(home, "work", "t", "p", "a.txt"));
        String before = head("t/p");

        CliRunner.Result r = CliRunner.run("--home", home, "pull", "t/p");
        assertEquals(ExitCodes.CONFLICT, r.code(), r.out());
        assertTrue(r.err().contains("run `quiltfs install t/p` to finish it, then pull again"), r.err());
        assertEquals(before, head("t/p"));
        assertEquals(0, CliRunner.run("--home", home, "install", "t/p").code());
        CliRunner.Result again = CliRunner.run("--home", home, "pull", "t/p");
        assertEquals(0, again.code(), again.err());
        assertEquals("theirs", Files.readString(Path.of(home, "work", "t", "p", "a.txt")));
    }

    @Test
    void aConflictOnAFileDeletedHereSaysHowToPutItBack() throws IOException {
        String other = tmp.resolve("other").toString();
        assertEquals(0, CliRunner.run("--home", other, "install", "t/p", "-r", reg).code());
        assertEquals(0, CliRunner.run("--home", home, "install", "t/p", "-r", reg).code());
        Files.writeString(Path.of(other, "work", "t", "p", "a.txt"), "theirs");
        assertEquals(0, CliRunner.run("--home", other, "commit", "t/p", "-m", "theirs").code());
        assertEquals(0, CliRunner.run("--home", other, "push", "t/p").code());
        Files.delete(Path.of(home, "work", "t", "p", "a.txt"));

        CliRunner.Result r = CliRunner.run("--home", home, "pull", "t/p");
        assertEquals(ExitCodes.CONFLICT, r.code(), r.out());
        assertTrue(r.err().contains("`quiltfs install t/p --path KEY` puts back a file deleted here"), r.err());
        assertEquals(0, CliRunner.run("--home", home, "install", "t/p", "--path", "a.txt").code());
        CliRunner.Result again = CliRunner.run("--home", home, "pull", "t/p");
        assertEquals(0, again.code(), again.err());
        assertEquals("theirs", Files.readString(Path.of(home, "work", "t", "p", "a.txt")));
    }

    @Test
    void anObjectTheRegistryLostIsNotWorthRetrying() throws IOException {
        Files.delete(Path.of(reg, "t", "p", "a.txt"));
        CliRunner.Result r = CliRunner.run("--home", home, "install", "t/p", "-r", reg);
        assertEquals(ExitCodes.NOT_FOUND, r.code(), r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("'a.txt'") && r.err().contains("cannot complete it")
                && r.err().contains("quiltfs uninstall t/p"), r.err());
        assertEquals(0, CliRunner.run("--home", home, "uninstall", "t/p").code());
        CliRunner.Result some = CliRunner.run("--home", home, "install", "t/p", "-r", reg, "--path", "data");
        assertEquals(0, some.code(), some.err());
    }
}
