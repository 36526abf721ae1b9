package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The workflow commands through the command line: output, --json, exit codes, messages. */
class WorkflowCommandsTest {
    @TempDir
    Path tmp;

    /** The result of one command. */
    record Run(int code, String out, String err) {
        JsonNode json() {
            return Json.parse(out);
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Cli.commandLine(args);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    String registry(TestRegistries.Kind kind) throws IOException {
        String uri = kind.newRegistry(tmp);
        Path src = tmp.resolve("src");
        Files.createDirectories(src.resolve("data"));
        Files.writeString(src.resolve("a.txt"), "alpha");
        Files.writeString(src.resolve("data/b.csv"), "b");
        Run b = run("build", "t/p", src.toString(), "-r", uri, "-m", "first");
        assertEquals(0, b.code(), b.err());
        return uri;
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void theDailyLoop(TestRegistries.Kind kind) throws IOException {
        String reg = registry(kind);
        String h1 = tmp.resolve("h1").toString();
        String h2 = tmp.resolve("h2").toString();
        Path w1 = tmp.resolve("w1");

        Run i = run("--home", h1, "--json", "install", "t/p", "--registry", reg, "--dest", w1.toString(),
                "--path", "data");
        assertEquals(0, i.code(), i.err());
        assertEquals(1, i.json().get("written").asInt());
        assertFalse(Files.exists(w1.resolve("a.txt")));
        Run partial = run("--home", h1, "status", "t/p");
        assertTrue(partial.out().contains("paths  data  (partial install"), partial.out());
        assertTrue(partial.out().contains("nothing to commit"), "keys outside the paths are not removed: " + partial.out());
        Run all = run("--home", h1, "install", "t/p");
        assertEquals(0, all.code(), all.err());
        assertTrue(Files.exists(w1.resolve("a.txt")));

        Run st = run("--home", h1, "--json", "status", "t/p");
        assertEquals(0, st.code(), st.err());
        assertEquals("UpToDate", st.json().get("state").asText());
        assertTrue(st.json().get("paths").isNull(), "every key is installed now");

        Files.writeString(w1.resolve("a.txt"), "changed");
        Files.writeString(w1.resolve("c.txt"), "new");
        st = run("--home", h1, "status", "t/p");
        assertTrue(st.out().contains("modified: a.txt") && st.out().contains("added:    c.txt"), st.out());

        Run c = run("--home", h1, "commit", "t/p", "-m", "second", "--meta", "{\"k\": 1}");
        assertEquals(0, c.code(), c.err());
        String top = c.out().lines().findFirst().orElseThrow();
        assertTrue(top.matches("[0-9a-f]{64}"), c.out());
        var home1 = new io.quiltfs.store.state.Home(Path.of(h1));
        var pkgName = io.quiltfs.store.registry.PackageName.parse("t/p");
        var committed = io.quiltfs.store.manifest.ManifestReader.read(home1.installedManifest(pkgName, top));
        assertEquals(1, committed.userMeta().get("k").asInt(), "--meta is the package metadata");
        assertEquals(io.quiltfs.store.hash.HashType.SHA2_256_CHUNKED, committed.get("a.txt").hash().type());
        Files.writeString(w1.resolve("c.txt"), "newer");
        Path metaFile = tmp.resolve("meta.json");
        Files.writeString(metaFile, "{\"from\": \"file\"}");
        Run cf = run("--home", h1, "commit", "t/p", "-m", "meta file", "--meta-file", metaFile.toString());
        assertEquals(0, cf.code(), cf.err());
        top = cf.out().lines().findFirst().orElseThrow();
        assertEquals("file", io.quiltfs.store.manifest.ManifestReader.read(home1.installedManifest(pkgName, top))
                .userMeta().get("from").asText());
        Run again = run("--home", h1, "--json", "commit", "t/p", "-m", "third");
        assertEquals(0, again.code());
        assertFalse(again.json().get("committed").asBoolean());
        assertEquals(2, run("--home", h1, "commit", "t/p").code(), "-m is required");
        Run badMeta = run("--home", h1, "commit", "t/p", "-m", "x", "--meta", "{nope");
        assertEquals(2, badMeta.code());
        assertTrue(badMeta.err().contains("--meta"), badMeta.err());

        // A second user installs the old latest and pushes first: the first user's push is refused.
        assertEquals(0, run("--home", h2, "install", "t/p", "-r", reg).code());
        Path w2 = tmp.resolve("h2/work/t/p");
        Files.writeString(w2.resolve("data/b.csv"), "bob");
        assertEquals(0, run("--home", h2, "commit", "t/p", "-m", "bob").code());
        assertEquals(0, run("--home", h2, "push", "t/p").code());
        Run refused = run("--home", h1, "push", "t/p");
        assertEquals(ExitCodes.CONFLICT, refused.code());
        assertTrue(refused.err().contains("diverged") && refused.err().contains("quiltfs pull t/p")
                && refused.err().contains("--force"), refused.err());
        Run refusedJson = run("--home", h1, "--json", "push", "t/p");
        assertEquals(ExitCodes.CONFLICT, refusedJson.code());
        assertEquals("conflict", refusedJson.json().get("error").get("kind").asText(), refusedJson.out());
        assertTrue(refusedJson.json().get("error").get("message").asText().contains("diverged"));
        assertEquals("Diverged", run("--home", h1, "--json", "status", "t/p").json().get("state").asText());
        Run pulled = run("--home", h1, "--json", "pull", "t/p");
        assertEquals(0, pulled.code(), pulled.err());
        assertTrue(pulled.json().get("merged").asBoolean());
        assertEquals("bob", Files.readString(w1.resolve("data/b.csv")));
        Run pushed = run("--home", h1, "--json", "push", "t/p");
        assertEquals(0, pushed.code(), pushed.err());
        String latest = pushed.json().get("top_hash").asText();

        // Tags, refs with :TAG, log.
        assertEquals(0, run("--home", h1, "tag", "t/p", "v1").code());
        Run tags = run("--home", h1, "--json", "tag", "t/p");
        assertEquals(latest, tags.json().get("tags").get("v1").asText());
        Run log = run("--home", h2, "log", "t/p");
        assertEquals(0, log.code(), log.err());
        assertTrue(log.out().lines().findFirst().orElseThrow().contains("[latest]")
                && log.out().contains("[v1]"), log.out());
        Run logJson = run("--home", tmp.resolve("h3").toString(), "--json", "log", "t/p", "--registry", reg);
        assertEquals(3, logJson.json().get("revisions").size());
        Path w3 = tmp.resolve("w3");
        assertEquals(0, run("--home", tmp.resolve("h3").toString(), "install", "t/p:v1", "-r", reg,
                "--dest", w3.toString()).code());
        assertEquals("changed", Files.readString(w3.resolve("a.txt")));
        assertEquals(ExitCodes.NOT_FOUND, run("--home", h1, "tag", "--delete", "t/p", "nope").code());
        assertEquals(0, run("--home", h1, "tag", "--delete", "t/p", "v1").code());

        // Errors name the package and what to do.
        Run notInstalled = run("--home", h1, "status", "t/q");
        assertEquals(ExitCodes.NOT_FOUND, notInstalled.code());
        assertTrue(notInstalled.err().contains("t/q") && notInstalled.err().contains("quiltfs install"),
                notInstalled.err());
        Run noPkg = run("--home", h1, "install", "t/zzz", "-r", reg);
        assertEquals(ExitCodes.NOT_FOUND, noPkg.code());
        Run behind = run("--home", h2, "status", "t/p");
        assertTrue(behind.out().contains("Behind") && behind.out().contains("quiltfs pull t/p"), behind.out());

        // Uninstall protects uncommitted work.
        Files.writeString(w2.resolve("a.txt"), "unsaved");
        // status names the keys a pull would refuse, instead of suggesting the pull.
        Run clash = run("--home", h2, "status", "t/p");
        assertTrue(clash.out().contains("1 key was changed both here and in the registry's latest")
                && clash.out().contains("both:     a.txt") && !clash.out().contains("run `quiltfs pull"), clash.out());
        assertEquals("[\"a.txt\"]", run("--home", h2, "--json", "status", "t/p").json().get("conflicts").toString());
        assertEquals("[]", run("--home", h1, "--json", "status", "t/p").json().get("conflicts").toString());
        Run refusedPull = run("--home", h2, "pull", "t/p");
        assertEquals(ExitCodes.CONFLICT, refusedPull.code());
        assertTrue(refusedPull.err().contains("'a.txt'"), refusedPull.err());
        Run un = run("--home", h2, "uninstall", "t/p");
        assertEquals(ExitCodes.CONFLICT, un.code());
        assertTrue(un.err().contains("uncommitted") && un.err().contains("--force"), un.err());
        assertEquals(0, run("--home", h2, "uninstall", "t/p", "--force").code());
        assertFalse(Files.exists(w2));
    }

    @org.junit.jupiter.api.Test
    void aPackageWhoseLatestWasDeletedInTheRegistryIsLocal() throws IOException {
        String reg = registry(TestRegistries.LOCAL);
        String h = tmp.resolve("h").toString();
        assertEquals(0, run("--home", h, "install", "t/p", "-r", reg, "--dest", tmp.resolve("w").toString()).code());
        Path latest = io.quiltfs.store.registry.PhysicalKey.parse(reg).filePath()
                .resolve(".quilt/named_packages/t/p/latest");
        String top = Files.readString(latest).trim();
        Files.delete(latest);

        Run st = run("--home", h, "status", "t/p");
        assertEquals(0, st.code(), st.err());
        assertTrue(st.out().startsWith("t/p: Local") && st.out().contains("no latest revision of t/p")
                && st.out().contains("quiltfs push t/p --force"), st.out());
        Run idle = run("--home", h, "push", "t/p");
        assertEquals(0, idle.code(), idle.err());
        assertTrue(idle.out().contains("nothing to push") && idle.out().contains("--force"), idle.out());
        assertFalse(Files.exists(latest), "a push without --force recreates nothing");
        Run forced = run("--home", h, "push", "t/p", "--force");
        assertEquals(0, forced.code(), forced.err());
        assertEquals(top, Files.readString(latest).trim());
        assertEquals("UpToDate", run("--home", h, "--json", "status", "t/p").json().get("state").asText());
    }

    @org.junit.jupiter.api.Test
    void uninstallNamesWhatItWouldDiscardAndForceSaysWhatItDiscarded() throws IOException {
        String reg = registry(TestRegistries.LOCAL);
        String h = tmp.resolve("h").toString();
        Path w = tmp.resolve("w");
        assertEquals(0, run("--home", h, "install", "t/p", "-r", reg, "--dest", w.toString()).code());
        Files.writeString(w.resolve("a.txt"), "edited");
        Files.writeString(w.resolve("mine.txt"), "not the package's");
        Files.delete(w.resolve("data/b.csv"));
        Run refused = run("--home", h, "uninstall", "t/p");
        assertEquals(ExitCodes.CONFLICT, refused.code());
        assertEquals("quiltfs: error: t/p has uncommitted changes in " + w + " (added 'mine.txt'; modified 'a.txt';"
                + " removed 'data/b.csv'); commit and push them, or use --force to discard them (it deletes the"
                + " working folder with every file in it)\n", refused.err());
        assertTrue(Files.exists(w.resolve("mine.txt")));

        assertEquals(0, run("--home", h, "commit", "t/p", "-m", "local").code());
        Files.writeString(w.resolve("mine.txt"), "changed again");
        Run unpushed = run("--home", h, "uninstall", "t/p");
        assertEquals(ExitCodes.CONFLICT, unpushed.code());
        assertTrue(unpushed.err().contains("t/p has 1 local commit not pushed") && unpushed.err().contains("push it with"
                + " `quiltfs push t/p` or use --force to discard it"), unpushed.err());

        Run forced = run("--home", h, "--json", "uninstall", "t/p", "--force");
        assertEquals(0, forced.code(), forced.err());
        assertEquals(1, forced.json().get("discarded_commits").size());
        assertEquals("removed", forced.json().get("work_dir_fate").asText());
        assertEquals("[\"mine.txt\"]", forced.json().get("discarded_changes").get("modified").toString());
        assertFalse(Files.exists(w), "the working folder goes, --dest or not");
        assertEquals(0, run("--home", h, "install", "t/p", "-r", reg, "--dest", w.toString()).code());
        Files.writeString(w.resolve("a.txt"), "again");
        Run text = run("--home", h, "uninstall", "t/p", "--force");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("discarded the uncommitted changes: modified 'a.txt'"), text.out());
        Run clean = run("--home", h, "install", "t/p", "-r", reg);
        assertEquals(0, clean.code(), clean.err());
        Run quiet = run("--home", h, "uninstall", "t/p");
        assertEquals(0, quiet.code(), quiet.err());
        assertFalse(quiet.out().contains("discarded"), quiet.out());
        Run gone = run("--home", h, "uninstall", "t/p");
        assertEquals(ExitCodes.NOT_FOUND, gone.code());
        assertTrue(gone.err().contains("t/p is not installed"), gone.err());
    }

    @org.junit.jupiter.api.Test
    void uninstallSaysWhatBecameOfTheWorkingFolder() throws IOException {
        String reg = registry(TestRegistries.LOCAL);
        String h = tmp.resolve("h").toString();
        Path real = Files.createDirectories(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        assertEquals(0, run("--home", h, "install", "t/p", "-r", reg, "--dest", link.toString()).code());
        assertTrue(Files.exists(real.resolve("a.txt")));
        Run left = run("--home", h, "uninstall", "t/p");
        assertEquals(0, left.code(), left.err());
        assertEquals("uninstalled t/p (left " + link + " alone: it is a symbolic link to " + real + ", not a folder;"
                + " delete the files there yourself if you no longer need them; cached objects kept)\n", left.out());
        assertTrue(Files.exists(real.resolve("a.txt")), "nothing is deleted through a link");

        Path w = tmp.resolve("w");
        assertEquals(0, run("--home", h, "install", "t/p", "-r", reg, "--dest", w.toString()).code());
        try (var all = Files.walk(w)) {
            for (Path q : (Iterable<Path>) all.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.delete(q);
            }
        }
        Run absent = run("--home", h, "--json", "uninstall", "t/p");
        assertEquals(0, absent.code(), absent.err());
        assertEquals("absent", absent.json().get("work_dir_fate").asText());

        Path nl = tmp.resolve("new\nline");
        assertEquals(0, run("--home", h, "install", "t/p", "-r", reg, "--dest", nl.toString()).code());
        Run removed = run("--home", h, "uninstall", "t/p");
        assertEquals(0, removed.code(), removed.err());
        assertEquals("uninstalled t/p (removed $'" + tmp + "/new\\nline'; cached objects kept)\n", removed.out());
    }

    /**
     * A working folder that is a symbolic link keeps its files: the refusal says so rather than
     * that --force deletes them, and --force reports nothing discarded.
     */
    @org.junit.jupiter.api.Test
    void uninstallOfALinkedWorkingFolderDiscardsNothing() throws IOException {
        String reg = registry(TestRegistries.LOCAL);
        String h = tmp.resolve("h").toString();
        Path real = Files.createDirectories(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        assertEquals(0, run("--home", h, "install", "t/p", "-r", reg, "--dest", link.toString()).code());
        Files.writeString(real.resolve("a.txt"), "edited");
        Run refused = run("--home", h, "uninstall", "t/p");
        assertEquals(ExitCodes.CONFLICT, refused.code(), refused.err());
        assertTrue(refused.err().contains("or use --force to uninstall anyway (" + link + " is a symbolic link: it and"
                + " the files it leads to stay where they are, changes included)"), refused.err());
        assertFalse(refused.err().contains("deletes"), refused.err());
        Run forced = run("--home", h, "--json", "uninstall", "t/p", "--force");
        assertEquals(0, forced.code(), forced.err());
        assertEquals("left", forced.json().get("work_dir_fate").asText());
        assertEquals("{\"added\":[],\"modified\":[],\"removed\":[]}", forced.json().get("discarded_changes").toString());
        assertEquals("edited", Files.readString(real.resolve("a.txt")));
    }

    /** `status` quotes the globs of a partial install as the hints do: each pastes back as one word. */
    @org.junit.jupiter.api.Test
    void statusQuotesThePathGlobs() throws IOException {
        String reg = registry(TestRegistries.LOCAL);
        String h = tmp.resolve("h").toString();
        assertEquals(0, run("--home", h, "install", "t/p", "-r", reg, "--path", "**/*.csv", "--path", "a.txt").code());
        Run st = run("--home", h, "status", "t/p", "--offline");
        assertEquals(0, st.code(), st.err());
        assertTrue(st.out().contains("  paths  '**/*.csv' a.txt  (partial install"), st.out());
    }

    @org.junit.jupiter.api.Test
    void pathGlobs() throws IOException {
        String reg = registry(TestRegistries.LOCAL);
        String h = tmp.resolve("h").toString();
        Run empty = run("--home", h, "install", "t/p", "-r", reg, "--path", "");
        assertEquals(ExitCodes.USAGE, empty.code());
        assertTrue(empty.err().startsWith("quiltfs: error: invalid --path glob '': it names no key"), empty.err());
        Run invalid = run("--home", h, "install", "t/p", "-r", reg, "--path", "data", "--path", "data/[b");
        assertEquals(ExitCodes.USAGE, invalid.code());
        assertEquals(1, invalid.err().lines().count(), invalid.err());
        assertTrue(invalid.err().contains("invalid --path glob 'data/[b': missing ']'"), invalid.err());
        Run none = run("--home", h, "install", "t/p", "-r", reg, "--path", "data", "--path", "nothing/**");
        assertEquals(ExitCodes.NOT_FOUND, none.code());
        assertTrue(none.err().contains("matches 'nothing/**'"), none.err());
        assertFalse(Files.exists(Path.of(h, "work", "t", "p")), "nothing installed");
        Run any = run("--home", h, "--json", "install", "t/p", "-r", reg, "--path", "**/*.txt", "--path", "./data");
        assertEquals(0, any.code(), any.err());
        assertEquals(2, any.json().get("files").asInt(), "**/ matches no folder too: " + any.out());
        assertEquals("[\"**/*.txt\",\"data\"]", any.json().get("paths").toString());
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void everyVerbHasHelp(TestRegistries.Kind kind) {
        for (String verb : new String[] {"install", "status", "commit", "push", "pull", "tag", "log", "uninstall"}) {
            Run h = run(verb, "--help");
            assertEquals(0, h.code(), verb);
            assertTrue(h.out().contains("Usage: quiltfs " + verb), h.out());
        }
    }
}
