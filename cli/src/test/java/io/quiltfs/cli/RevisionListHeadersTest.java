package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * `browse REGISTRY ns/name` and `log` show each revision's message from its manifest's header
 * alone: hundreds of revisions of millions of rows cost one small read each, not every row of every
 * one (the rows are read, and verified, when the revision itself is). A manifest without a
 * header is a problem named in the answer, not a message; a log of an installed package keeps
 * no copy of the revisions it lists.
 */
class RevisionListHeadersTest {
    static final String DIR = ".quilt/named_packages/team/pkg/";

    @TempDir
    Path tmp;

    /** A manifest under {@code name} (not its top hash: these are damaged) and a timestamp pointer to it. */
    private static void plant(String reg, String name, long timestamp, String content) throws IOException {
        Files.writeString(TestRegistries.backing(reg, ".quilt/packages/" + name), content);
        Files.writeString(TestRegistries.backing(reg, DIR + timestamp), name);
    }

    /** Message by top hash in a --json answer of browse or log. */
    private static Map<String, String> messages(CliRunner.Result r) {
        Map<String, String> out = new HashMap<>();
        for (JsonNode v : Json.parse(r.out()).get("revisions")) {
            out.put(v.get("top_hash").asText(), v.get("message").asText());
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void theListReadsHeadersOnlyAndNamesAManifestWithoutOne(TestRegistries.Kind kind) throws IOException {
        String reg = kind.newRegistry(tmp);
        String home = tmp.resolve("home").toString();
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "a\n");
        CliRunner.Result b = CliRunner.run("--home", home, "build", "team/pkg", src.toString(), "-r", reg, "-m", "one");
        assertEquals(0, b.code(), b.err());
        String top = b.out().strip();
        assertEquals(0, CliRunner.run("--home", home, "tag", "team/pkg", "good", "-r", reg).code());

        String rowsBad = "a".repeat(64);
        // A header, then 3 MB of one row that never ends: a list must not read past the header.
        plant(reg, rowsBad, 1600000010L, "{\"version\":\"v0\",\"message\":\"rows not read\"}\n" + "{".repeat(3 << 20));
        String bigHeader = "b".repeat(64);
        // A header longer than one small read (a large user_meta).
        plant(reg, bigHeader, 1600000011L, "{\"version\":\"v0\",\"message\":\"big header\",\"user_meta\":{\"pad\":\""
                + "x".repeat(200_000) + "\"}}\n");
        String empty = "c".repeat(64);
        plant(reg, empty, 1600000012L, "");
        String lateHeader = "d".repeat(64);
        // Blank lines past one small read (64 KB on S3, ending on a line end), then the header: read as a
        // local registry reads it.
        plant(reg, lateHeader, 1600000013L, " \t\r\n".repeat(20_000)
                + "{\"version\":\"v0\",\"message\":\"late header\"}\n");

        for (String[] cmd : new String[][] {{"browse", reg, "team/pkg"}, {"log", "team/pkg", "-r", reg}}) {
            String[] text = new String[cmd.length + 2];
            text[0] = "--home";
            text[1] = home;
            System.arraycopy(cmd, 0, text, 2, cmd.length);
            CliRunner.Result r = CliRunner.run(text);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains(top + "  one [latest] [good]"), r.out());
            assertTrue(r.out().contains(rowsBad + "  rows not read\n"), r.out());
            assertTrue(r.out().contains(bigHeader + "  big header\n"), r.out());
            assertTrue(r.out().contains(empty + "  (unreadable: "), r.out());
            assertTrue(r.out().contains(lateHeader + "  late header\n"), r.out());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("quiltfs: warning: pointer " + reg + "/" + DIR + "1600000012 names " + empty
                    + ", whose manifest is damaged: " + reg + "/.quilt/packages/" + empty + ":1: empty manifest"), r.err());

            String[] json = new String[text.length + 1];
            json[0] = "--json";
            System.arraycopy(text, 0, json, 1, text.length);
            CliRunner.Result j = CliRunner.run(json);
            assertEquals(0, j.code(), j.err());
            assertEquals("rows not read", messages(j).get(rowsBad));
            assertEquals("big header", messages(j).get(bigHeader));
            assertEquals("late header", messages(j).get(lateHeader));
            for (JsonNode v : Json.parse(j.out()).get("revisions")) {
                // browse's revisions carry their tags as log's do (the text shows them on both)
                assertEquals(v.get("top_hash").asText().equals(top) ? "[\"good\"]" : "[]", v.get("tags").toString());
            }
            JsonNode problems = Json.parse(j.out()).get("problems");
            assertEquals(1, problems.size(), problems.toString());
            assertEquals(DIR + "1600000012", problems.get(0).get("key").asText());
        }

        // The revision itself is read whole, and its damage named.
        CliRunner.Result files = CliRunner.run("--home", home, "browse", reg, "team/pkg@" + rowsBad);
        assertEquals(ExitCodes.FAILURE, files.code(), files.out());
        assertTrue(files.err().contains(reg + "/.quilt/packages/" + rowsBad + ":2: "), files.err());
    }

    /**
     * A revision built twice (two timestamp pointers, one top hash) is latest at its newest line
     * only, in browse as in log; its tags are on each of its lines in both.
     */
    @org.junit.jupiter.api.Test
    void browseAndLogMarkLatestOnTheSameLine() throws IOException {
        String reg = TestRegistries.LOCAL.newRegistry(tmp);
        String home = tmp.resolve("home").toString();
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "a\n");
        String top = null;
        for (int i = 0; i < 2; i++) {
            CliRunner.Result b = CliRunner.run("--home", home, "build", "team/pkg", src.toString(), "-r", reg, "-m",
                    "same");
            assertEquals(0, b.code(), b.err());
            top = b.out().strip();
        }
        // Two timestamp pointers may share a second: make them differ, the newer one last written.
        java.util.List<Path> pointers;
        try (var names = Files.list(TestRegistries.backing(reg, DIR + "latest").getParent())) {
            pointers = names.filter(n -> !n.getFileName().toString().equals("latest")).sorted().toList();
        }
        if (pointers.size() == 1) {
            Files.writeString(pointers.get(0).resolveSibling("1600000000"), top);
        }
        assertEquals(0, CliRunner.run("--home", home, "tag", "team/pkg", "v1", "-r", reg).code());

        for (String[] cmd : new String[][] {{"--json", "browse", reg, "team/pkg"}, {"--json", "log", "team/pkg", "-r",
                reg}}) {
            String[] args = new String[cmd.length + 2];
            args[0] = "--home";
            args[1] = home;
            System.arraycopy(cmd, 0, args, 2, cmd.length);
            CliRunner.Result j = CliRunner.run(args);
            assertEquals(0, j.code(), j.err());
            JsonNode revs = Json.parse(j.out()).get("revisions");
            assertEquals(2, revs.size(), j.out());
            assertTrue(revs.get(0).get("latest").asBoolean(), j.out());
            assertFalse(revs.get(1).get("latest").asBoolean(), cmd[1] + ": " + j.out());
            assertEquals("[\"v1\"]", revs.get(0).get("tags").toString(), j.out());
            assertEquals("[\"v1\"]", revs.get(1).get("tags").toString(), j.out());

            String[] text = new String[args.length - 1];
            text[0] = "--home";
            text[1] = home;
            System.arraycopy(cmd, 1, text, 2, cmd.length - 1);
            CliRunner.Result t = CliRunner.run(text);
            assertEquals(0, t.code(), t.err());
            java.util.List<String> lines = t.out().lines().toList();
            assertTrue(lines.get(0).endsWith(top + "  same [latest] [v1]"), t.out());
            assertTrue(lines.get(1).endsWith(top + "  same [v1]"), cmd[1] + ": " + t.out());
        }
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aLogOfAnInstalledPackageKeepsNoCopyOfWhatItLists(TestRegistries.Kind kind) throws IOException {
        String reg = kind.newRegistry(tmp);
        String home = tmp.resolve("home").toString();
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "a\n");
        assertEquals(0, CliRunner.run("--home", home, "build", "team/pkg", src.toString(), "-r", reg, "-m", "one")
                .code());
        assertEquals(0, CliRunner.run("--home", home, "install", "team/pkg", "-r", reg, "--dest",
                tmp.resolve("work").toString()).code());
        Files.writeString(src.resolve("a.txt"), "b\n");
        CliRunner.Result two = CliRunner.run("--home", tmp.resolve("other").toString(), "build", "team/pkg",
                src.toString(), "-r", reg, "-m", "two");
        assertEquals(0, two.code(), two.err());
        String top2 = two.out().strip();

        CliRunner.Result log = CliRunner.run("--home", home, "log", "team/pkg");
        assertEquals(0, log.code(), log.err());
        assertTrue(log.out().contains(top2 + "  two [latest]"), log.out());
        assertTrue(log.out().contains("  one [base]") || log.out().contains("  one [head]"), log.out());
        String uri;
        try (Registry r = kind.open(reg)) {
            uri = r.uri();
        }
        Path cached = new Home(Path.of(home)).cachedManifest(Home.registryId(uri), top2);
        assertFalse(Files.exists(cached), "log stored " + cached);
    }
}
