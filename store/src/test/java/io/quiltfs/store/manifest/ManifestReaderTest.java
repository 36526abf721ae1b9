package io.quiltfs.store.manifest;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.testing.Vectors;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ManifestReaderTest {
    static final String HEADER = "{\"version\":\"v0\",\"message\":\"m\"}\n";
    static final String HASH = "{\"type\":\"sha2-256-chunked\",\"value\":\"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"}";


    static String file(String key, long size) {
        return "{\"logical_key\":\"" + key + "\",\"physical_keys\":[\"s3://b/" + key + "\"],\"size\":" + size
                + ",\"hash\":" + HASH + ",\"meta\":{}}\n";
    }

    static ManifestException fails(String text) {
        return assertThrows(ManifestException.class,
                () -> ManifestReader.read(text.getBytes(StandardCharsets.UTF_8), "m.jsonl"));
    }

    @ParameterizedTest(name = "key {0}")
    @CsvSource(delimiter = '|', value = {
        "''|empty logical key",
        "/etc/passwd|absolute",
        "../../etc/passwd|'..' component",
        "a/./b|'.' component",
        "a//b|empty component",
        "a/b/|ends with '/'",
        "a\\u0000b|NUL",
    })
    void badKeysAreRefusedWithLineAndKey(String key, String why) {
        ManifestException e = fails(HEADER + file("ok", 0) + file(key, 0));
        assertTrue(e.getMessage().startsWith("m.jsonl:3: "), e.getMessage());
        assertTrue(e.getMessage().contains(why), e.getMessage());
        // The key as written in the JSON text, control characters escaped.
        String shown = key.replace("\\u0000", "\\x00");
        assertTrue(e.getMessage().endsWith("(key '" + shown + "')"), e.getMessage());
    }

    @Test
    void keysWithUnpairedSurrogatesAreRefusedAndShownEscaped() {
        // Python reads "a\ud800" as a string that is not Unicode text: quilt3 computes a top hash
        // for it but cannot write it (UTF-8 has no encoding for it), and no file can have that name.
        ManifestException e = fails(HEADER + file("a\\ud800", 0));
        assertEquals("m.jsonl:2: logical key contains an unpaired surrogate (\\ud800), which is not"
                + " Unicode text (key 'a\\ud800')", e.getMessage());
        e = fails(HEADER + file("x\\udc00/y", 0));
        assertTrue(e.getMessage().endsWith("(key 'x\\udc00/y')"), e.getMessage());
        e = fails(HEADER + "{\"logical_key\":\"d\\udbff/\",\"meta\":{}}\n");
        assertTrue(e.getMessage().startsWith("m.jsonl:2: logical key contains an unpaired surrogate"), e.getMessage());
        // Two such keys are not reported as duplicates of a third key ("a?") that neither row has.
        e = fails(HEADER + file("a\\ud800", 0) + file("a\\udc00", 0));
        assertFalse(e.getMessage().contains("duplicate"), e.getMessage());
        // A pair is a character like any other.
        assertEquals("a\uD83D\uDE00", assertDoesNotThrow(() -> ManifestReader.read(
                (HEADER + file("a\\ud83d\\ude00", 0)).getBytes(StandardCharsets.UTF_8), "m")).key(0));
    }

    @Test
    void malformedLinesAndFieldsNameTheLine() {
        assertTrue(fails(HEADER + "{not json\n").getMessage().contains("m.jsonl:2: malformed JSON"));
        assertTrue(fails(HEADER + file("a", -1)).getMessage().endsWith("m.jsonl:2: negative size -1 (key 'a')"));
        assertTrue(fails(HEADER + file("a", 0).replace("\"size\":0", "\"size\":1.5")).getMessage()
                .contains("size is not an integer"));
        ManifestException md5 = fails(HEADER + file("a", 0).replace("sha2-256-chunked", "md5"));
        assertTrue(md5.getMessage().startsWith("m.jsonl:2: unknown hash type 'md5'"), md5.getMessage());
        assertTrue(md5.getMessage().endsWith("(key 'a')"), md5.getMessage());
        assertTrue(fails(HEADER + file("a", 0).replace(",\"size\":0", "")).getMessage().contains("row has no size"));
        assertTrue(fails(HEADER + file("a", 0).replace(",\"hash\":" + HASH, "")).getMessage().contains("no hash"));
        assertTrue(fails(HEADER + file("a", 0).replace("[\"s3://b/a\"]", "[\"s3://b/a\",\"s3://c/a\"]"))
                .getMessage().contains("2 physical keys"));
        assertTrue(fails(HEADER + "{\"physical_keys\":[\"s3://b/a\"]}\n").getMessage().contains("no logical_key"));
        assertEquals("m.jsonl:2: row has no physical_keys (key 'a')",
                fails(HEADER + file("a", 0).replace("\"physical_keys\":[\"s3://b/a\"],", "")).getMessage());
        assertEquals("m.jsonl:2: row has no physical_keys (key 'a')",
                fails(HEADER + file("a", 0).replace("[\"s3://b/a\"]", "null")).getMessage());
        assertEquals("m.jsonl:2: row has 0 physical keys (exactly one is supported) (key 'a')",
                fails(HEADER + file("a", 0).replace("[\"s3://b/a\"]", "[]")).getMessage());
        assertTrue(fails("").getMessage().contains("no header"));
        assertTrue(fails("[1,2]\n").getMessage().contains("not a JSON object"));
        assertTrue(fails(HEADER + "{\"logical_key\":\"a\",\"logical_key\":\"b\"}\n").getMessage().contains("m.jsonl:2"));
    }

    @Test
    void duplicateKeysAndFileFolderClashesAreRefused() {
        ManifestException dup = fails(HEADER + file("b", 0) + file("a", 0) + file("b", 0));
        // named at its second line, with its first
        assertEquals("m.jsonl:4: duplicate logical key (also on line 2) (key 'b')", dup.getMessage());
        ManifestException clash = fails(HEADER + file("a", 0) + file("a/b", 0));
        assertTrue(clash.getMessage().contains("inside 'a', which is a file"), clash.getMessage());
    }

    @Test
    void folderRowsThatNameAFileOrRepeatAreRefusedWithTheirLine() throws IOException {
        String dir = "{\"logical_key\":\"a/\",\"meta\":{\"n\":1}}\n";
        assertEquals("m.jsonl:4: folder row names a file (key 'a/')",
                fails(HEADER + file("x", 0) + file("a", 0) + dir).getMessage());
        ManifestException dup = fails(HEADER + dir + file("a/b", 0) + "{\"logical_key\":\"a/\",\"meta\":{\"n\":2}}\n");
        assertEquals("m.jsonl:4: duplicate folder row (key 'a/')", dup.getMessage());
        List<Problem> ps = ManifestReader.validate(new ByteArrayInputStream((HEADER + dir + file("b", 0) + dir + file("a", 0)
                + dir).getBytes(StandardCharsets.UTF_8)), "m");
        assertEquals("[2: folder row names a file (key 'a/'), 4: folder row names a file (key 'a/'),"
                + " 4: duplicate folder row (key 'a/'), 6: folder row names a file (key 'a/'),"
                + " 6: duplicate folder row (key 'a/')]", ps.toString());
        var b = Manifest.builder().addDirectoryRow(Json.object().put("logical_key", "d/"))
                .addDirectoryRow(Json.object().put("logical_key", "d/"));
        assertTrue(assertThrows(IllegalArgumentException.class, b::build).getMessage().contains("duplicate folder row"));
    }

    @Test
    void validateChecksPhysicalKeys() throws IOException {
        String text = HEADER + file("a", 0).replace("s3://b/a", "not a url") + file("b", 0).replace("s3://b/b", "s3://bucket")
                + file("c", 0).replace("s3://b/c", "file://relative/c") + file("d", 0).replace("s3://b/d", "http://h/d")
                + file("e", 0).replace("s3://b/e", "s3://b/e?versionId=v1") + file("f", 0).replace("s3://b/f", "file:///f%20g")
                + file("g", 0).replace("s3://b/g", "not a url either") + "{\"logical_key\":\"h\",\"physical_keys\":[\"\"],"
                + "\"size\":0,\"hash\":" + HASH + ",\"meta\":{\"m\":1}}\n";
        List<Problem> ps = ManifestReader.validate(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), "m");
        assertEquals(List.of(2L, 3L, 4L, 5L, 8L, 9L), ps.stream().map(Problem::line).toList(), ps.toString());
        assertTrue(ps.stream().allMatch(Problem::error), ps.toString());
        assertEquals("2: unsupported physical key 'not a url' (expected s3:// or file://) (key 'a')", ps.get(0).toString());
        assertEquals("b", ps.get(1).key());
        assertTrue(ps.get(2).message().contains("'file://relative/c'"), ps.get(2).message());
        assertEquals("h", ps.get(5).key());
        // The vector manifests' physical keys (s3 with a bucket name quilt3 accepts, file:///) are fine.
        for (String name : List.of("quilt_manifest.jsonl", "local_manifest.jsonl", "checksummed.jsonl")) {
            try (var in = java.nio.file.Files.newInputStream(Vectors.quilt().resolve("manifests").resolve(name))) {
                assertTrue(ManifestReader.validate(in, name).stream().noneMatch(Problem::error), name);
            }
        }
    }

    @Test
    void overLongLineIsRefusedNamingItsKey() {
        String pad = "y".repeat(1024 * 1024 + 10);
        String big = "{\"logical_key\":\"a\",\"x\":\"" + pad + "\"}\n";
        ManifestException e = fails(HEADER + big + file("b", 0));
        assertEquals("m.jsonl:2: line is over 1 MB (key 'a')", e.getMessage());
        // Past the reader's buffer (read from a stream, skipped without being held), with escapes and spaces.
        String huge = "{ \"logical_key\" : \"d/\\u00e9\\n\", \"x\":\"" + "y".repeat(5 << 20) + "\"}\n";
        e = assertThrows(ManifestException.class, () -> ManifestReader.read(
                new ByteArrayInputStream((HEADER + huge + file("b", 0)).getBytes(StandardCharsets.UTF_8)), "m.jsonl"));
        assertEquals("m.jsonl:2: line is over 1 MB (key 'd/\u00e9\\x0a')", e.getMessage());
        // Only a leading logical_key is taken: one further on could be inside another field.
        e = fails(HEADER + "{\"meta\":{\"logical_key\":\"no\"},\"x\":\"" + pad + "\"}\n");
        assertEquals("m.jsonl:2: line is over 1 MB (the key is not named: logical_key is not the row's first field)",
                e.getMessage());
        e = fails("{\"version\":\"v0\",\"x\":\"" + pad + "\"}\n" + file("b", 0));
        assertEquals("m.jsonl:1: the header line is over 1 MB", e.getMessage());
    }

    @Test
    void outOfRangeFloatsKeepTheirTopHashThroughAWriteAndARead() throws IOException {
        String zeros = "0".repeat(64);
        String text = "{\"version\":\"v0\",\"message\":\"m\",\"user_meta\":{\"big\":1e999,\"neg\":-1e400,\"small\":1e-400}}\n"
                + "{\"logical_key\":\"a\",\"physical_keys\":[\"s3://b/a\"],\"size\":1,"
                + "\"hash\":{\"type\":\"SHA256\",\"value\":\"" + zeros + "\"},\"meta\":{\"x\":[1e400]}}\n";
        Manifest m = ManifestReader.read(text.getBytes(StandardCharsets.UTF_8), "m");
        // quilt3 8.0.0: Package.load(this text).top_hash (it reads 1e400 as inf and hashes "Infinity").
        String quilt3 = "7e9bcff5b8b800ae143327a5b7209c5cb0ed6cbbbf068f2578462cd0e5f8841a";
        assertEquals(quilt3, m.topHash());
        byte[] written = ManifestWriter.toBytes(m);
        String w = new String(written, StandardCharsets.UTF_8);
        assertFalse(w.contains("Infinity"), w);
        Manifest again = ManifestReader.read(written, "again");
        assertEquals(quilt3, again.topHash());
        assertEquals(quilt3, TopHash.compute(again));
        assertEquals(Double.NEGATIVE_INFINITY, again.userMeta().get("neg").doubleValue());
        assertEquals(Double.POSITIVE_INFINITY, again.entry(0).meta().get("x").get(0).doubleValue());
    }

    @Test
    void notANumberCannotBeWritten() {
        Manifest m = Manifest.builder().userMeta(Json.object().put("x", Double.NaN)).build();
        assertTrue(assertThrows(RuntimeException.class, () -> ManifestWriter.toBytes(m)).getMessage()
                .contains("NaN"));
    }

    @Test
    void validateReportsEveryProblemWithItsLine() throws IOException {
        String text = HEADER + "{oops\n" + file("a", 0) + file("../x", 0) + file("a", 0)
                + file("b", 0).replace("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "bad");
        List<Problem> ps = ManifestReader.validate(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), "m");
        assertEquals(4, ps.size(), ps.toString());
        assertEquals(2, ps.get(0).line());
        assertEquals(4, ps.get(1).line());
        assertEquals(5, ps.get(2).line());
        assertTrue(ps.get(2).message().contains("duplicate"));
        assertEquals(6, ps.get(3).line());
        // A warning: the manifest reads and hashes (quilt3's own test manifests hold "abcd"), but
        // no content can match that value.
        assertEquals("6: warning: hash value 'bad' is not a valid sha2-256-chunked value, so no content can"
                + " match it (key 'b')", ps.get(3).toString());
        assertTrue(ps.subList(0, 3).stream().allMatch(Problem::error), ps.toString());
    }

    @Test
    void keepsUnknownFieldsDirectoryRowsAndNumberKinds() throws IOException {
        String text = "{\"version\":\"v0\",\"message\":null,\"x_custom\":{\"big\":123456789012345678901234567890,\"f\":1e5}}\n"
                + "{\"logical_key\":\"d/\",\"meta\":{\"folder\":true}}\n"
                + "{\"logical_key\":\"d/f\",\"physical_keys\":[\"file:///x\"],\"size\":3,\"hash\":" + HASH
                + ",\"meta\":{\"user_meta\":{\"n\":2.0}},\"extra_field\":[1]}\n";
        Manifest m = ManifestReader.read(text.getBytes(StandardCharsets.UTF_8), "m");
        Manifest again = ManifestReader.read(ManifestWriter.toBytes(m), "again");
        assertEquals(m.topHash(), again.topHash());
        String written = new String(ManifestWriter.toBytes(again), StandardCharsets.UTF_8);
        assertTrue(written.contains("123456789012345678901234567890"), written);
        assertTrue(written.contains("\"x_custom\""));
        assertTrue(written.contains("{\"logical_key\":\"d/\",\"meta\":{\"folder\":true}}"), written);
        assertTrue(written.contains("\"extra_field\":[1]"), written);
        assertTrue(written.contains("\"n\":2.0"), written);
        assertTrue(written.endsWith("\n"));
        assertEquals(1, m.directoryRows().size());
    }

    @Test
    void walkOrderAndRanges() throws IOException {
        StringBuilder sb = new StringBuilder(HEADER);
        for (String k : List.of("a.txt", "a-b", "a b/x", "a/c/d", "a/b")) {
            sb.append(file(k, 1));
        }
        Manifest m = ManifestReader.read(sb.toString().getBytes(StandardCharsets.UTF_8), "m");
        assertEquals(List.of("a/b", "a/c/d", "a b/x", "a-b", "a.txt"),
                m.entries().stream().map(Entry::logicalKey).toList());
        int[] r = m.range("a");
        assertEquals(0, r[0]);
        assertEquals(2, r[1]);
        assertEquals(1, m.find("a/c/d"));
        assertTrue(m.find("a/c") < 0);
        assertFalse(m.get("a b/x") == null);
        assertEquals(Checksum.of(HashType.SHA2_256_CHUNKED, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
                m.get("a-b").hash());
    }

    @Test
    void builderRefusesBadKeys() {
        var b = Manifest.builder().add(new Entry("../x", "file:///x", 1,
                Checksum.of(HashType.SHA256, "00".repeat(32))));
        assertThrows(IllegalArgumentException.class, b::build);
    }
}
