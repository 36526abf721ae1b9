package io.quiltfs.store.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.HashType;
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
        String k = key.replace("\\u0000", "\\u0000");
        ManifestException e = fails(HEADER + file("ok", 0) + file(k, 0));
        assertTrue(e.getMessage().startsWith("m.jsonl:3: "), e.getMessage());
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }

    @Test
    void malformedLinesAndFieldsNameTheLine() {
        assertTrue(fails(HEADER + "{not json\n").getMessage().contains("m.jsonl:2: malformed JSON"));
        assertTrue(fails(HEADER + file("a", -1)).getMessage().contains("negative size -1"));
        assertTrue(fails(HEADER + file("a", 0).replace("\"size\":0", "\"size\":1.5")).getMessage()
                .contains("size is not an integer"));
        assertTrue(fails(HEADER + file("a", 0).replace("sha2-256-chunked", "md5")).getMessage()
                .contains("unknown hash type 'md5'"));
        assertTrue(fails(HEADER + file("a", 0).replace(",\"size\":0", "")).getMessage().contains("row has no size"));
        assertTrue(fails(HEADER + file("a", 0).replace(",\"hash\":" + HASH, "")).getMessage().contains("no hash"));
        assertTrue(fails(HEADER + file("a", 0).replace("[\"s3://b/a\"]", "[\"s3://b/a\",\"s3://c/a\"]"))
                .getMessage().contains("2 physical keys"));
        assertTrue(fails(HEADER + "{\"physical_keys\":[\"s3://b/a\"]}\n").getMessage().contains("no logical_key"));
        assertTrue(fails("").getMessage().contains("no header"));
        assertTrue(fails("[1,2]\n").getMessage().contains("not a JSON object"));
        assertTrue(fails(HEADER + "{\"logical_key\":\"a\",\"logical_key\":\"b\"}\n").getMessage().contains("m.jsonl:2"));
    }

    @Test
    void duplicateKeysAndFileFolderClashesAreRefused() {
        ManifestException dup = fails(HEADER + file("b", 0) + file("a", 0) + file("b", 0));
        assertTrue(dup.getMessage().contains("duplicate logical key (key 'b')"), dup.getMessage());
        assertTrue(dup.getMessage().contains(":4:") || dup.getMessage().contains(":2:"), dup.getMessage());
        ManifestException clash = fails(HEADER + file("a", 0) + file("a/b", 0));
        assertTrue(clash.getMessage().contains("inside 'a', which is a file"), clash.getMessage());
    }

    @Test
    void overLongLineIsRefused() {
        String big = "{\"logical_key\":\"a\",\"x\":\"" + "y".repeat(1024 * 1024 + 10) + "\"}\n";
        ManifestException e = fails(HEADER + big + file("b", 0));
        assertTrue(e.getMessage().contains("m.jsonl:2: line is over 1 MB"), e.getMessage());
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
        assertTrue(ps.get(3).message().contains("not a valid sha2-256-chunked value"));
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
