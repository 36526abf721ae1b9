package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.testing.Vectors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class FoundationCommandsTest {
    @TempDir
    Path tmp;

    @Test
    void helpOnEveryCommand() {
        Deque<CommandLine> todo = new ArrayDeque<>();
        todo.add(Cli.commandLine());
        while (!todo.isEmpty()) {
            CommandLine c = todo.pop();
            todo.addAll(c.getSubcommands().values());
            if (c.getCommandName().equals("help")) {
                continue;
            }
            String path = c.getCommandSpec().qualifiedName(" ").replaceFirst("^quiltfs ?", "");
            String[] args = (path.isEmpty() ? "--help" : path + " --help").split(" ");
            CliRunner.Result r = CliRunner.run(args);
            assertEquals(0, r.code(), path);
            assertTrue(r.out().startsWith("Usage: quiltfs"), path + ": " + r.out());
        }
    }

    @Test
    void hashPrintsLikeSha256sum() throws Exception {
        Path f = tmp.resolve("hello.txt");
        Files.writeString(f, "Hello, World!");
        CliRunner.Result r = CliRunner.run("hash", f.toString());
        assertEquals(0, r.code());
        assertEquals("BCp9ZKWB7y7pg/IQWIAcw1ZjtwXmxV9i+o4PGOzHCYk=  " + f + "\n", r.out());
        r = CliRunner.run("hash", "--type", "SHA256", f.toString());
        assertEquals("dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f  " + f + "\n", r.out());
        r = CliRunner.run("hash", "-t", "crc64nvme", f.toString());
        assertEquals("1Km+Qyat0k0=  " + f + "\n", r.out());
        r = CliRunner.run("hash", "--type", "md5", f.toString());
        assertEquals(ExitCodes.USAGE, r.code());
        assertTrue(r.err().contains("unknown hash type 'md5'"), r.err());
        r = CliRunner.run("hash", tmp.resolve("missing").toString());
        assertEquals(ExitCodes.NOT_FOUND, r.code());
    }

    @Test
    void hashOfSeveralFilesWithOneMissingPrintsTheOthersLikeSha256sum() throws Exception {
        Path a = Files.writeString(tmp.resolve("a.txt"), "Hello, World!");
        Path b = Files.writeString(tmp.resolve("b.txt"), "Hello, World!");
        Path missing = tmp.resolve("missing");
        CliRunner.Result r = CliRunner.run("hash", "-t", "crc64nvme", a.toString(), missing.toString(), b.toString(),
                tmp.toString());
        assertEquals(ExitCodes.NOT_FOUND, r.code());
        assertEquals("1Km+Qyat0k0=  " + a + "\n1Km+Qyat0k0=  " + b + "\n", r.out());
        assertEquals("quiltfs: error: no such file: " + missing + "\nquiltfs: error: " + tmp + " is a folder\n", r.err());
        r = CliRunner.run("--json", "hash", a.toString(), missing.toString());
        assertEquals(ExitCodes.NOT_FOUND, r.code());
        JsonNode j = Json.parse(r.out());
        assertEquals("BCp9ZKWB7y7pg/IQWIAcw1ZjtwXmxV9i+o4PGOzHCYk=", j.get(0).get("value").asText());
        assertEquals("no such file: " + missing, j.get(1).get("error").asText());
    }

    @Test
    void debugPrintsTheStackTraceOfAnError() throws Exception {
        Path m = Files.writeString(tmp.resolve("bad.jsonl"), "{\"version\":\"v0\"}\n{oops\n");
        CliRunner.Result plain = CliRunner.run("manifest", "tophash", m.toString());
        assertEquals(ExitCodes.FAILURE, plain.code());
        assertEquals(1, plain.err().lines().count(), plain.err());
        for (String[] args : List.of(new String[] {"--debug", "manifest", "tophash", m.toString()},
                new String[] {"manifest", "tophash", "--debug", m.toString()})) {
            CliRunner.Result r = CliRunner.run(args);
            assertEquals(ExitCodes.FAILURE, r.code(), String.join(" ", args));
            assertTrue(r.err().contains("io.quiltfs.store.manifest.ManifestException: " + m + ":2: malformed JSON"),
                    r.err());
            assertTrue(r.err().contains("\tat io.quiltfs.store.manifest.ManifestReader."), r.err());
            assertTrue(r.err().strip().endsWith("\n" + plain.err().strip()), r.err());
        }
    }

    @Test
    void validateAcceptsTheVectorManifestsThatTophashAccepts() {
        // quilt3's test manifests hold the hash value "abcd": they read and hash (expected-tophash.tsv),
        // so validate warns about it rather than calling them invalid.
        for (String name : List.of("quilt_manifest.jsonl", "local_manifest.jsonl")) {
            String file = Vectors.quilt().resolve("manifests").resolve(name).toString();
            CliRunner.Result r = CliRunner.run("manifest", "validate", file);
            assertEquals(0, r.code(), r.err());
            assertEquals(file + ": valid (4 warnings)\n", r.out());
            assertTrue(r.err().contains(file + ":2: warning: hash value 'abcd' is not a valid SHA256 value"), r.err());
            assertEquals("4cf8b52e3647c21207c1f60394f394f7dbf1a04a89d94aeb6c28a9bf09688f2b\n",
                    CliRunner.run("manifest", "tophash", file).out());
        }
    }

    @Test
    void validateReportsABadPhysicalKeyWithLineAndKey() throws Exception {
        Path m = Files.writeString(tmp.resolve("pk.jsonl"), "{\"version\":\"v0\"}\n{\"logical_key\":\"x\","
                + "\"physical_keys\":[\"not a url\"],\"size\":1,\"hash\":{\"type\":\"SHA256\",\"value\":\""
                + "0".repeat(64) + "\"},\"meta\":{}}\n");
        CliRunner.Result r = CliRunner.run("manifest", "validate", m.toString());
        assertEquals(ExitCodes.FAILURE, r.code());
        assertEquals(m + ":2: unsupported physical key 'not a url' (expected s3:// or file://) (key 'x')\n", r.err());
        // With --json the problems are the output: stdout only, and the exit code says invalid.
        CliRunner.Result j = CliRunner.run("--json", "manifest", "validate", m.toString());
        assertEquals(ExitCodes.FAILURE, j.code());
        assertEquals("", j.err());
        JsonNode problems = Json.parse(j.out()).get("problems");
        assertEquals(2, problems.get(0).get("line").asInt());
        assertEquals("x", problems.get(0).get("key").asText());
    }

    @Test
    void noCommandIsAUsageError() {
        CliRunner.Result r = CliRunner.run();
        assertEquals(ExitCodes.USAGE, r.code());
        assertEquals("", r.out());
        assertTrue(r.err().contains("Usage: quiltfs") && r.err().contains("quiltfs: missing command"), r.err());
        CliRunner.Result help = CliRunner.run("--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("Usage: quiltfs"), help.out());
    }

    @Test
    void buildRefusesMetadataWithAnOutOfRangeNumber() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("x"), "x");
        Path reg = tmp.resolve("reg");
        CliRunner.Result b = CliRunner.run("--home", tmp.resolve("home").toString(), "build", "t/i", src.toString(),
                "--registry", reg.toUri().toString(), "-m", "x", "--meta", "{\"ok\":1,\"x\":1e999}");
        assertEquals(ExitCodes.USAGE, b.code());
        assertEquals("quiltfs: error: --meta: invalid JSON: the number at /x is out of range (too large for a"
                + " 64-bit float; JSON has no Infinity)\n", b.err());
        assertEquals("", b.out());
        assertTrue(!Files.exists(reg.resolve(".quilt/named_packages/t/i")), "nothing was published");
    }

    @Test
    void tophashPrintsOnlyTheHash() {
        CliRunner.Result r = CliRunner.run("manifest", "tophash",
                Vectors.quilt().resolve("manifests/top_hash_test_manifest.jsonl").toString());
        assertEquals("3426a3f721e41a1d83174c691432a39ff13720426267fc799dccf3583153e850\n", r.out());
        assertEquals(0, r.code());
    }

    @Test
    void badManifestGivesOneLineAndNonZeroExit() throws Exception {
        Path m = tmp.resolve("bad.jsonl");
        Files.writeString(m, "{\"version\":\"v0\"}\n{\"logical_key\":\"../../etc/passwd\",\"physical_keys\":[\"file:///x\"],"
                + "\"size\":1,\"hash\":{\"type\":\"SHA256\",\"value\":\"" + "0".repeat(64) + "\"}}\n");
        CliRunner.Result r = CliRunner.run("manifest", "tophash", m.toString());
        assertEquals(ExitCodes.FAILURE, r.code());
        assertEquals("", r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(m + ":2:") && r.err().contains("'..' component")
                && r.err().contains("../../etc/passwd"), r.err());
        r = CliRunner.run("manifest", "validate", m.toString());
        assertEquals(ExitCodes.FAILURE, r.code());
        r = CliRunner.run("manifest", "validate",
                Vectors.quilt().resolve("manifests/checksummed.jsonl").toString());
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void buildThenBrowseWithJson() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src/d"));
        Files.writeString(src.resolve("x.csv"), "a,b\n1,2\n");
        Files.writeString(tmp.resolve("src/README.md"), "# hi\n");
        String reg = tmp.resolve("reg").toUri().toString();
        CliRunner.Result b = CliRunner.run("--home", tmp.resolve("home").toString(), "build", "demo/pkg",
                tmp.resolve("src").toString(), "--registry", reg, "-m", "first", "--meta", "{\"k\":1}");
        assertEquals(0, b.code(), b.err());
        String top = b.out().strip();
        assertTrue(top.matches("[0-9a-f]{64}"), top);
        CliRunner.Result list = CliRunner.run("browse", reg, "--json");
        JsonNode j = Json.parse(list.out());
        assertEquals("demo/pkg", j.get("packages").get(0).asText());
        CliRunner.Result revs = CliRunner.run("browse", reg, "demo/pkg");
        assertTrue(revs.out().contains(top) && revs.out().contains("first") && revs.out().contains("[latest]"), revs.out());
        CliRunner.Result none = CliRunner.run("browse", reg, "demo/nope");
        assertEquals(ExitCodes.NOT_FOUND, none.code());
        assertTrue(none.err().contains("no package demo/nope"), none.err());

        // A revision (@prefix or :tag) lists its files, not the package's revisions.
        CliRunner.Result files = CliRunner.run("browse", reg, "demo/pkg@" + top.substring(0, 8));
        assertEquals(0, files.code(), files.err());
        assertEquals(List.of("5  README.md", "8  d/x.csv", "2 files, 13 bytes in demo/pkg@" + top + ": first"),
                files.out().lines().toList());
        CliRunner.Result filesJson = CliRunner.run("--json", "browse", reg, "demo/pkg:latest");
        assertEquals(0, filesJson.code(), filesJson.err());
        JsonNode fj = Json.parse(filesJson.out());
        assertEquals(top, fj.get("top_hash").asText());
        assertEquals(1, fj.get("user_meta").get("k").asInt());
        assertEquals("d/x.csv", fj.get("files").get(1).get("logical_key").asText());
        assertEquals(8, fj.get("files").get(1).get("size").asLong());
        assertEquals("sha2-256-chunked", fj.get("files").get(1).get("hash").get("type").asText());
        CliRunner.Result noRev = CliRunner.run("browse", reg, "demo/pkg@abcdef");
        assertEquals(ExitCodes.NOT_FOUND, noRev.code(), noRev.err());
        CliRunner.Result noTag = CliRunner.run("browse", reg, "demo/pkg:v9");
        assertEquals(ExitCodes.NOT_FOUND, noTag.code(), noTag.err());
        assertTrue(noTag.err().contains("no tag 'v9'"), noTag.err());
    }
}
