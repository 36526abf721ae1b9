package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One bad pointer (a timestamp, a tag, latest) does not take down `browse`, `log` or the tag
 * list: they list what they can read and name each bad pointer once; a bad latest still fails
 * them, and the hot paths that need a bad pointer fail naming it.
 */
class BrowseBadPointersTest {
    static final String DIR = ".quilt/named_packages/team/pkg/";
    static final String TAGS = ".quilt/quiltfs/tags/team/pkg/";

    @TempDir
    Path tmp;


    /** Warning lines of a run, one per bad pointer. */
    static List<String> warnings(CliRunner.Result r) {
        return r.err().lines().filter(l -> l.startsWith("quiltfs: warning: pointer ")).toList();
    }

    /** The keys {@code problems} names in a --json answer. */
    static Set<String> problemKeys(CliRunner.Result r) {
        Set<String> keys = new TreeSet<>();
        for (JsonNode p : Json.parse(r.out()).get("problems")) {
            keys.add(p.get("key").asText());
            assertTrue(p.get("message").asText().contains(p.get("registry").asText() + "/" + p.get("key").asText()),
                    p.toString());
        }
        return keys;
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void badPointersAreNamedOnceAndTheRestIsListed(TestRegistries.Kind kind) throws IOException {
        String reg = kind.newRegistry(tmp);
        String home = tmp.resolve("home").toString();
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "a\n");
        CliRunner.Result b = CliRunner.run("--home", home, "build", "team/pkg", src.toString(), "-r", reg, "-m", "one");
        assertEquals(0, b.code(), b.err());
        String top = b.out().strip();
        assertEquals(0, CliRunner.run("--home", home, "tag", "team/pkg", "good", "-r", reg).code());

        String h = "0123456789abcdef".repeat(4);
        Files.writeString(TestRegistries.backing(reg, DIR + "1600000000"), "");
        try (RandomAccessFile f = new RandomAccessFile(TestRegistries.backing(reg, DIR + "1600000001").toFile(), "rw")) {
            f.setLength(5000);
        }
        Files.writeString(TestRegistries.backing(reg, DIR + "1600000002/x"), h); // a folder where a pointer should be
        Files.writeString(TestRegistries.backing(reg, DIR + "1600000003"), "e".repeat(64)); // no such manifest
        Files.writeString(TestRegistries.backing(reg, DIR + "not-a-time"), h);
        Files.writeString(TestRegistries.backing(reg, TAGS + "broken"), "not a hash");
        Set<String> bad = new TreeSet<>(Set.of(DIR + "1600000000", DIR + "1600000001",
                DIR + "1600000002" + (kind == TestRegistries.S3 ? "/" : ""), DIR + "1600000003", DIR + "not-a-time",
                TAGS + "broken"));
        if (kind == TestRegistries.LOCAL) {
            // Unreadable (tests run as root, whom permissions do not stop): a link to itself.
            Path loop = TestRegistries.backing(reg, DIR + "1600000004");
            Files.createSymbolicLink(loop, loop.getFileName());
            bad.add(DIR + "1600000004");
        }

        CliRunner.Result browse = CliRunner.run("--home", home, "browse", reg, "team/pkg");
        assertEquals(0, browse.code(), browse.err());
        assertTrue(browse.out().contains(top + "  one [latest] [good]"), browse.out());
        assertTrue(browse.out().contains("e".repeat(64) + "  (manifest missing)"), browse.out());
        assertEquals(bad.size(), warnings(browse).size(), browse.err());
        for (String key : bad) {
            assertEquals(1, warnings(browse).stream().filter(l -> l.contains(reg + "/" + key + " ")).count(),
                    key + " named once: " + browse.err());
        }
        assertTrue(browse.err().contains(DIR + "1600000000 does not hold a top hash (64 hex digits; it is empty)"),
                browse.err());
        assertTrue(browse.err().contains("over 1024 bytes"), browse.err());
        assertTrue(browse.err().contains("whose manifest is missing"), browse.err());
        if (kind == TestRegistries.LOCAL) {
            assertTrue(browse.err().contains(DIR + "1600000004 cannot be read (Too many levels of symbolic links"),
                    browse.err());
        }
        CliRunner.Result browseJson = CliRunner.run("--home", home, "--json", "browse", reg, "team/pkg");
        assertEquals(0, browseJson.code(), browseJson.err());
        assertEquals(bad, problemKeys(browseJson));

        CliRunner.Result log = CliRunner.run("--home", home, "log", "team/pkg", "-r", reg);
        assertEquals(0, log.code(), log.err());
        assertTrue(log.out().contains(top + "  one [latest] [good]"), log.out());
        assertEquals(bad.size(), warnings(log).size(), log.err());
        CliRunner.Result logJson = CliRunner.run("--home", home, "--json", "log", "team/pkg", "-r", reg);
        assertEquals(0, logJson.code(), logJson.err());
        assertEquals(bad, problemKeys(logJson));

        CliRunner.Result tags = CliRunner.run("--home", home, "tag", "team/pkg", "-r", reg);
        assertEquals(0, tags.code(), tags.err());
        assertEquals("good  " + top, tags.out().strip());
        assertEquals(1, warnings(tags).size(), tags.err());

        // The hot path that needs the bad tag fails naming it.
        CliRunner.Result viaTag = CliRunner.run("--home", home, "browse", reg, "team/pkg:broken");
        assertEquals(ExitCodes.FAILURE, viaTag.code(), viaTag.out());
        assertTrue(viaTag.err().contains(reg + "/" + TAGS + "broken does not hold a top hash"), viaTag.err());

        // A bad latest: the rest is still listed, but the answer is a failure, and so is every
        // use of latest.
        Files.writeString(TestRegistries.backing(reg, DIR + "latest"), "x".repeat(64));
        for (String[] cmd : List.of(new String[] {"browse", reg, "team/pkg"}, new String[] {"log", "team/pkg", "-r", reg})) {
            String[] args = new String[cmd.length + 2];
            args[0] = "--home";
            args[1] = home;
            System.arraycopy(cmd, 0, args, 2, cmd.length);
            CliRunner.Result r = CliRunner.run(args);
            assertEquals(ExitCodes.FAILURE, r.code(), cmd[0] + ": " + r.err());
            assertTrue(r.out().contains(top + "  one [good]"), r.out());
            assertEquals(bad.size() + 1, warnings(r).size(), r.err());
            assertTrue(r.err().contains(reg + "/" + DIR + "latest does not hold a top hash"), r.err());
        }
        CliRunner.Result install = CliRunner.run("--home", home, "install", "team/pkg", "-r", reg,
                "--dest", tmp.resolve("work").toString());
        assertEquals(ExitCodes.FAILURE, install.code(), install.out());
        assertTrue(install.err().contains(reg + "/" + DIR + "latest does not hold a top hash"), install.err());
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void pushForceReplacesADamagedLatest(TestRegistries.Kind kind) throws IOException {
        String reg = kind.newRegistry(tmp);
        String home = tmp.resolve("home").toString();
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "a\n");
        assertEquals(0, CliRunner.run("--home", home, "build", "team/pkg", src.toString(), "-r", reg, "-m", "one")
                .code());
        assertEquals(0, CliRunner.run("--home", home, "install", "team/pkg", "-r", reg).code());
        Files.writeString(Path.of(home, "work", "team", "pkg", "b.txt"), "b\n");
        CliRunner.Result c = CliRunner.run("--home", home, "commit", "team/pkg", "-m", "two");
        assertEquals(0, c.code(), c.err());
        String head = c.out().strip();
        Files.writeString(TestRegistries.backing(reg, DIR + "latest"), "x".repeat(64));

        CliRunner.Result push = CliRunner.run("--home", home, "push", "team/pkg");
        assertEquals(ExitCodes.FAILURE, push.code(), push.out());
        assertEquals(1, push.err().lines().count(), push.err());
        assertTrue(push.err().contains(reg + "/" + DIR + "latest does not hold a top hash"), push.err());
        assertTrue(push.err().contains("; nothing was pushed. `quiltfs push team/pkg --force` replaces it with your"
                + " head"), push.err());
        assertEquals("x".repeat(64), Files.readString(TestRegistries.backing(reg, DIR + "latest")));

        CliRunner.Result forced = CliRunner.run("--home", home, "push", "team/pkg", "--force");
        assertEquals(0, forced.code(), forced.err());
        assertTrue(head.contains(Files.readString(TestRegistries.backing(reg, DIR + "latest"))), head);
        CliRunner.Result status = CliRunner.run("--home", home, "--json", "status", "team/pkg");
        assertEquals(0, status.code(), status.err());
        assertTrue(status.out().contains("UpToDate"), status.out());
    }

    /**
     * A damaged latest does not hide the local changes from status: they are listed, the state is
     * unknown (null in --json), the pointer is named once (a warning, and `problems`), exit 1.
     */
    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void statusWithADamagedLatestShowsTheLocalChanges(TestRegistries.Kind kind) throws IOException {
        String reg = kind.newRegistry(tmp);
        String home = tmp.resolve("home").toString();
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "a\n");
        Files.writeString(src.resolve("c.txt"), "c\n");
        assertEquals(0, CliRunner.run("--home", home, "build", "team/pkg", src.toString(), "-r", reg, "-m", "one")
                .code());
        assertEquals(0, CliRunner.run("--home", home, "install", "team/pkg", "-r", reg).code());
        Path work = Path.of(home, "work", "team", "pkg");
        Files.writeString(work.resolve("b.txt"), "b\n");
        Files.writeString(work.resolve("a.txt"), "a2\n");
        Files.delete(work.resolve("c.txt"));
        Files.writeString(TestRegistries.backing(reg, DIR + "latest"), "not a hash");

        CliRunner.Result text = CliRunner.run("--home", home, "status", "team/pkg");
        assertEquals(ExitCodes.FAILURE, text.code(), text.out() + text.err());
        assertEquals(1, text.err().lines().count(), text.err());
        assertEquals(1, warnings(text).size(), text.err());
        assertTrue(text.err().contains(reg + "/" + DIR + "latest does not hold a top hash"), text.err());
        assertTrue(text.out().contains("team/pkg: state unknown"), text.out());
        assertTrue(text.out().contains("  added:    b.txt") && text.out().contains("  modified: a.txt")
                && text.out().contains("  removed:  c.txt"), text.out());

        CliRunner.Result json = CliRunner.run("--home", home, "--json", "status", "team/pkg");
        assertEquals(ExitCodes.FAILURE, json.code(), json.err());
        JsonNode j = Json.parse(json.out());
        assertTrue(j.get("state").isNull(), json.out());
        assertTrue(j.get("latest").isNull(), json.out());
        assertTrue(j.get("conflicts").isNull(), json.out());
        assertEquals("[\"b.txt\"]", j.get("added").toString());
        assertEquals("[\"a.txt\"]", j.get("modified").toString());
        assertEquals("[\"c.txt\"]", j.get("removed").toString());
        assertEquals(Set.of(DIR + "latest"), problemKeys(json));
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void onlyBadPointersIsAFailureNamingThem(TestRegistries.Kind kind) throws IOException {
        String reg = kind.newRegistry(tmp);
        Files.writeString(TestRegistries.backing(reg, DIR + "1600000000"), "");
        for (String[] cmd : List.of(new String[] {"browse", reg, "team/pkg"}, new String[] {"log", "team/pkg", "-r", reg})) {
            String[] args = new String[cmd.length + 2];
            args[0] = "--home";
            args[1] = tmp.resolve("home").toString();
            System.arraycopy(cmd, 0, args, 2, cmd.length);
            CliRunner.Result r = CliRunner.run(args);
            assertEquals(ExitCodes.FAILURE, r.code(), cmd[0] + ": " + r.err());
            assertTrue(r.err().contains(reg + "/" + DIR + "1600000000 does not hold a top hash"), r.err());
            assertTrue(r.err().contains("no readable revision of team/pkg"), r.err());
        }
        Files.writeString(TestRegistries.backing(reg, TAGS + "broken"), "not a hash");
        CliRunner.Result tags = CliRunner.run("--home", tmp.resolve("home").toString(), "tag", "team/pkg", "-r", reg);
        assertEquals(ExitCodes.FAILURE, tags.code(), tags.err());
        assertEquals(1, warnings(tags).size(), tags.err());
        assertTrue(tags.err().contains(reg + "/" + TAGS + "broken does not hold a top hash"), tags.err());
    }
}
