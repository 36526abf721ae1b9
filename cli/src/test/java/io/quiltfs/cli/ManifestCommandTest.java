package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.json.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code manifest tophash|validate} on the files a user may hand them. */
class ManifestCommandTest {
    static final String HEADER = "{\"version\":\"v0\",\"message\":\"m\"}";
    static final String HASH = "\"hash\":{\"type\":\"SHA256\",\"value\":\"" + "0".repeat(64) + "\"}";

    @TempDir
    Path tmp;

    static String row(String key, long size) {
        return "{\"logical_key\":" + Json.write(Json.NODES.textNode(key)) + ",\"physical_keys\":[\"s3://b/k\"],\"size\":"
                + size + "," + HASH + ",\"meta\":{}}";
    }

    @Test
    void aFolderIsNamed() throws Exception {
        for (String verb : new String[] {"tophash", "validate"}) {
            CliRunner.Result r = CliRunner.run("manifest", verb, tmp.toString());
            assertEquals(ExitCodes.NOT_FOUND, r.code(), verb);
            assertEquals("quiltfs: error: " + tmp + " is a folder, not a manifest file\n", r.err(), verb);
            assertEquals("", r.out());
        }
    }

    @Test
    void validateReportsEveryProblemWithItsLineAndTophashRefusesAtTheFirst() throws Exception {
        Path m = Files.writeString(tmp.resolve("m.jsonl"), String.join("\n", HEADER, row("b", 1), row("a", -1),
                "not json", row("../up", 1), row("b", 2), row("ok", 1)) + "\n");
        CliRunner.Result r = CliRunner.run("manifest", "validate", m.toString());
        assertEquals(ExitCodes.FAILURE, r.code());
        assertEquals(m + ":3: negative size -1 (key 'a')\n"
                + m + ":4: malformed JSON: Unrecognized token 'not': was expecting (JSON String, Number, Array, Object"
                + " or token 'null', 'true' or 'false')\n"
                + m + ":5: logical key has a '..' component (key '../up')\n"
                + m + ":6: duplicate logical key (also on line 2) (key 'b')\n", r.err());
        r = CliRunner.run("--json", "manifest", "validate", m.toString());
        var problems = Json.parse(r.out()).get("problems");
        assertEquals(4, problems.size());
        assertEquals(6, problems.get(3).get("line").asInt());
        r = CliRunner.run("manifest", "tophash", m.toString());
        assertEquals(ExitCodes.FAILURE, r.code());
        assertEquals("", r.out());
        assertEquals("quiltfs: error: " + m + ":3: negative size -1 (key 'a')\n", r.err());
    }

    @Test
    void lineEndingsABomAndALastLineWithoutNewlineDoNotChangeTheTopHash() throws Exception {
        String plain = String.join("\n", HEADER, row("a", 1), row("b/c", 2)) + "\n";
        String want = CliRunner.run("manifest", "tophash", Files.writeString(tmp.resolve("plain"), plain).toString()).out();
        assertEquals(65, want.length(), want);
        for (String variant : new String[] {plain.replace("\n", "\r\n"), "\uFEFF" + plain,
                plain.substring(0, plain.length() - 1)}) {
            Path f = Files.writeString(tmp.resolve("variant"), variant, StandardCharsets.UTF_8);
            CliRunner.Result r = CliRunner.run("manifest", "tophash", f.toString());
            assertEquals(want, r.out(), r.err());
            r = CliRunner.run("manifest", "validate", f.toString());
            assertEquals(0, r.code(), r.err());
            // quilt3 reads CRLF and a last line without newline, not a BOM
            assertEquals(variant.startsWith("\uFEFF") ? f + ":1: warning: the file starts with a UTF-8 byte order mark,"
                    + " which quilt3 cannot read\n" : "", r.err());
        }
    }

    @Test
    void blankLinesReadButValidateWarnsThatQuilt3CannotReadThem() throws Exception {
        String plain = String.join("\n", HEADER, row("a", 1), row("b/c", 2)) + "\n";
        String want = CliRunner.run("manifest", "tophash", Files.writeString(tmp.resolve("plain"), plain).toString()).out();
        Path f = Files.writeString(tmp.resolve("blank"), String.join("\n", HEADER, row("a", 1), "", row("b/c", 2)) + "\n  \n");
        assertEquals(want, CliRunner.run("manifest", "tophash", f.toString()).out());
        CliRunner.Result r = CliRunner.run("manifest", "validate", f.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(f + ":3: warning: blank line, which quilt3 cannot read\n"
                + f + ":5: warning: blank line, which quilt3 cannot read\n", r.err());
        assertEquals(f + ": valid (2 warnings)\n", r.out());
    }

    /**
     * A row without "meta" reads as meta {} (same top hash), but quilt3 8.0.0's Package._load
     * fails on it with KeyError: 'meta' (a folder row too; "meta": null it reads): a warning.
     */
    @Test
    void aRowWithoutMetaReadsButValidateWarnsThatQuilt3CannotReadIt() throws Exception {
        String plain = String.join("\n", HEADER, row("a", 1), row("b/c", 2), row("d", 3)) + "\n";
        String want = CliRunner.run("manifest", "tophash", Files.writeString(tmp.resolve("plain"), plain).toString()).out();
        String noMeta = row("a", 1).replace(",\"meta\":{}", "");
        String escaped = row("b/c", 2).replace(",\"meta\":{}", "").replace("\"b/c\"", "\"b\\/c\""); // Jackson's path
        String nullMeta = row("d", 3).replace("\"meta\":{}", "\"meta\":null");
        String folder = "{\"logical_key\":\"b/\",\"user\":1}";
        Path f = Files.writeString(tmp.resolve("nometa"), String.join("\n", HEADER, noMeta, escaped, nullMeta, folder) + "\n");
        CliRunner.Result r = CliRunner.run("manifest", "tophash", f.toString());
        assertEquals(0, r.code(), r.err());
        r = CliRunner.run("manifest", "validate", f.toString());
        assertEquals(0, r.code(), r.err());
        String w = ": warning: row has no \"meta\", which quilt3 cannot read (quiltfs reads it as {})";
        assertEquals(f + ":2" + w + " (key 'a')\n" + f + ":3" + w + " (key 'b/c')\n" + f + ":5" + w + " (key 'b/')\n",
                r.err());
        assertEquals(f + ": valid (3 warnings)\n", r.out());
        Path one = Files.writeString(tmp.resolve("one"), String.join("\n", HEADER, noMeta) + "\n");
        assertEquals(one + ": valid (1 warning)\n", CliRunner.run("manifest", "validate", one.toString()).out());
        assertEquals(want, CliRunner.run("manifest", "tophash", Files.writeString(tmp.resolve("same"),
                String.join("\n", HEADER, noMeta, escaped, nullMeta) + "\n").toString()).out());
    }

    @Test
    void emptyHeaderOnlyAndInvalidUtf8() throws Exception {
        Path empty = Files.writeString(tmp.resolve("empty"), "");
        CliRunner.Result r = CliRunner.run("manifest", "tophash", empty.toString());
        assertEquals(ExitCodes.FAILURE, r.code());
        assertEquals("quiltfs: error: " + empty + ":1: empty manifest: no header line\n", r.err());
        // a package with no files is a package: its top hash is the header's
        Path header = Files.writeString(tmp.resolve("header"), HEADER + "\n");
        r = CliRunner.run("manifest", "tophash", header.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(65, r.out().length());
        Path bad = tmp.resolve("bad");
        Files.write(bad, (HEADER + "\n" + row("a", 1).replace("\"a\"", "\"a\u00ff\"") + "\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        r = CliRunner.run("manifest", "validate", bad.toString());
        assertEquals(ExitCodes.FAILURE, r.code());
        assertTrue(r.err().startsWith(bad + ":2: malformed JSON: Invalid UTF-8"), r.err());
    }
}
