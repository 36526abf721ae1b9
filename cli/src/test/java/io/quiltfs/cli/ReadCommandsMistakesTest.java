package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.json.Json;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mistakes on the command line of the reading commands get an answer about what was typed: a
 * mistyped registry folder is no registry (not one without the package, nor an empty tag list
 * that exits 0), and a tag or revision to tag that cannot be one says why.
 */
class ReadCommandsMistakesTest {
    @TempDir
    Path tmp;

    @Test
    void aRegistryFolderThatDoesNotExistIsNamedAsSuch() throws IOException {
        String home = tmp.resolve("home").toString();
        String missing = tmp.resolve("no-such-registry").toString();
        String[][] commands = {
            {"browse", missing, "team/pkg"},
            {"log", "team/pkg", "-r", missing},
            {"tag", "team/pkg", "-r", missing},
            {"--json", "tag", "team/pkg", "-r", missing},
            {"tag", "--delete", "team/pkg", "v1", "-r", missing},
            {"tag", "team/pkg", "v1", "-r", missing},
        };
        for (String[] cmd : commands) {
            String[] args = new String[cmd.length + 2];
            args[0] = "--home";
            args[1] = home;
            System.arraycopy(cmd, 0, args, 2, cmd.length);
            CliRunner.Result r = CliRunner.run(args);
            String what = String.join(" ", cmd);
            assertEquals(ExitCodes.NOT_FOUND, r.code(), what + ": " + r.out() + r.err());
            assertEquals(1, r.err().lines().count(), what + ": " + r.err());
            assertTrue(r.err().startsWith("quiltfs: error: no registry at file://" + missing + ": " + missing
                    + " is not a folder"), what + ": " + r.err());
            if (cmd[0].equals("--json")) {
                assertEquals("not_found", Json.parse(r.out()).get("error").get("kind").asText(), r.out());
            }
        }
        assertFalse(Files.exists(Path.of(missing)), "nothing made at the mistyped path");
    }

    /**
     * The registry folder of an installed package moved away: its local commits are in the home
     * and are listed, the missing registry named once (a warning, and in --json's problems); with
     * no local commit there is nothing to list, and the registry is named as missing.
     */
    @Test
    void aLogOfAnInstalledPackageWhoseRegistryMovedListsItsLocalCommits() throws IOException {
        String reg = TestRegistries.LOCAL.newRegistry(tmp);
        String home = tmp.resolve("home").toString();
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "a\n");
        assertEquals(0, CliRunner.run("--home", home, "build", "t/p", src.toString(), "-r", reg, "-m", "one").code());
        assertEquals(0, CliRunner.run("--home", home, "build", "t/q", src.toString(), "-r", reg, "-m", "one").code());
        Path work = tmp.resolve("work");
        assertEquals(0, CliRunner.run("--home", home, "install", "t/p", "-r", reg, "--dest", work.toString()).code());
        assertEquals(0, CliRunner.run("--home", home, "install", "t/q", "-r", reg, "--dest",
                tmp.resolve("work-q").toString()).code());
        Files.writeString(work.resolve("b.txt"), "b\n");
        CliRunner.Result c = CliRunner.run("--home", home, "commit", "t/p", "-m", "local one");
        assertEquals(0, c.code(), c.err());
        Path folder = Path.of(java.net.URI.create(reg));
        Files.move(folder, tmp.resolve("moved"));

        CliRunner.Result log = CliRunner.run("--home", home, "log", "t/p");
        assertEquals(ExitCodes.OK, log.code(), log.err());
        assertEquals(1, log.out().lines().count(), log.out());
        assertTrue(log.out().strip().endsWith("  local one [local, not pushed] [head]"), log.out());
        assertEquals("quiltfs: warning: no registry at " + reg + ": " + folder + " is not a folder (check the path);"
                + " only the local commits of t/p are listed", log.err().strip());

        CliRunner.Result json = CliRunner.run("--home", home, "--json", "log", "t/p");
        assertEquals(ExitCodes.OK, json.code(), json.err());
        var answer = Json.parse(json.out());
        assertEquals(1, answer.get("revisions").size(), json.out());
        assertEquals("no registry", answer.get("problems").get(0).get("problem").asText(), json.out());
        assertTrue(answer.get("problems").get(0).get("key").isNull(), json.out());

        CliRunner.Result none = CliRunner.run("--home", home, "log", "t/q");
        assertEquals(ExitCodes.NOT_FOUND, none.code(), none.out());
        assertTrue(none.err().startsWith("quiltfs: error: no registry at " + reg), none.err());
    }

    @Test
    void aTagOrARevisionThatCannotBeOneSaysWhy() throws IOException {
        String reg = TestRegistries.LOCAL.newRegistry(tmp);
        String home = tmp.resolve("home").toString();
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "a\n");
        assertEquals(0, CliRunner.run("--home", home, "build", "t/p", src.toString(), "-r", reg, "-m", "one").code());

        CliRunner.Result tooLong = CliRunner.run("--home", home, "tag", "t/p", "x".repeat(129), "-r", reg);
        assertEquals(ExitCodes.USAGE, tooLong.code());
        assertTrue(tooLong.err().contains("at most 128 characters (it has 129)"), tooLong.err());
        assertEquals(0, CliRunner.run("--home", home, "tag", "t/p", "x".repeat(128), "-r", reg).code());

        CliRunner.Result otherPackage = CliRunner.run("--home", home, "tag", "t/p", "v1", "o/q:v2", "-r", reg);
        assertEquals(ExitCodes.USAGE, otherPackage.code());
        assertEquals("quiltfs: error: 'o/q:v2' names a revision of o/q, not of t/p: give a top hash, a prefix of"
                + " one, or t/p:TAG", otherPackage.err().strip());

        CliRunner.Result notHex = CliRunner.run("--home", home, "tag", "t/p", "v1", "zzzzzz", "-r", reg);
        assertEquals(ExitCodes.USAGE, notHex.code());
        assertEquals("quiltfs: error: invalid revision 'zzzzzz' to tag: expected a top hash, a prefix of 6 to 64"
                + " hex digits, or t/p:TAG", notHex.err().strip());
        assertEquals("x".repeat(128), CliRunner.run("--home", home, "tag", "t/p", "-r", reg).out().strip()
                .split(" ")[0], "only the valid tag was made");
    }

    @Test
    void aTimestampGivenAsAHashNamesTheRevisionItIsTheTimeOf() throws IOException {
        String reg = TestRegistries.LOCAL.newRegistry(tmp);
        String home = tmp.resolve("home").toString();
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "a\n");
        CliRunner.Result b = CliRunner.run("--home", home, "build", "t/p", src.toString(), "-r", reg, "-m", "one");
        assertEquals(0, b.code(), b.err());
        String top = b.out().strip();
        String time;
        try (var names = Files.list(TestRegistries.backing(reg, ".quilt/named_packages/t/p/latest").getParent())) {
            time = names.map(n -> n.getFileName().toString()).filter(n -> !n.equals("latest")).findFirst().orElseThrow();
        }
        CliRunner.Result r = CliRunner.run("--home", home, "browse", reg, "t/p@" + time);
        assertEquals(ExitCodes.NOT_FOUND, r.code(), r.out());
        assertEquals("quiltfs: error: no revision matches hash prefix " + time + " in " + reg + "; " + time
                + " is the time of revision t/p@" + top + ": name a revision by its top hash", r.err().strip());
        // Digits that are no timestamp pointer: the answer as before.
        CliRunner.Result other = CliRunner.run("--home", home, "browse", reg, "t/p@123456");
        assertEquals(ExitCodes.NOT_FOUND, other.code(), other.out());
        assertEquals("quiltfs: error: no revision matches hash prefix 123456 in " + reg, other.err().strip());
    }
}
