package io.quiltfs.store.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.hash.Hashers;
import io.quiltfs.store.hash.Sha256;
import io.quiltfs.store.json.CanonicalJson;
import io.quiltfs.store.json.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The streaming top hash (keys escaped from bytes, rows digested in batches) against the formula. */
class TopHashTest {
    @Test
    void matchesTheFormulaForKeysThatNeedEscapingAndForManyRows() {
        Manifest.Builder b = Manifest.builder().message("escapes");
        String[] keys = {"plain.txt", "quote\"d", "back\\slash", "d\u00e9j\u00e0/vu", "ctl\u0001x", "tab\tx",
            "emoji\uD83D\uDE00", "del\u007fx", "sp ace/x"};
        for (int i = 0; i < keys.length; i++) {
            b.add(new Entry(keys[i], "s3://b/" + i, i * 1_000_000_007L,
                    Hashers.of(HashType.values()[i % 3], keys[i].getBytes(StandardCharsets.UTF_8))));
        }
        // Enough rows to cross the batch boundary of the digest several times.
        for (int i = 0; i < 5000; i++) {
            b.add(new Entry("many/" + i, "s3://b/many/" + i, i,
                    Checksum.ofRaw(HashType.SHA2_256_CHUNKED, new byte[32])));
        }
        Manifest m = b.build();
        assertEquals(reference(m), m.topHash());
    }

    /**
     * quilt3 writes metadata nested about 980 deep (its JSON encoder stops at Python's recursion
     * limit); quiltfs reads such a manifest and computes quilt3's top hash (from quilt3 8.0.0's
     * Package.load(...).top_hash of this text).
     */
    @Test
    void metadataNestedAsDeeplyAsQuilt3WritesIt() throws Exception {
        int d = 980;
        String text = "{\"version\":\"v0\",\"message\":\"deep\",\"user_meta\":{\"a\":" + "[".repeat(d) + "1.5"
                + "]".repeat(d) + "}}\n{\"logical_key\":\"f\",\"physical_keys\":[\"file:///f\"],\"size\":1,"
                + "\"hash\":{\"type\":\"SHA256\",\"value\":\"" + "0".repeat(64) + "\"},\"meta\":{\"user_meta\":"
                + "{\"k\":".repeat(d) + "null" + "}".repeat(d) + "}}\n";
        Manifest m = ManifestReader.read(text.getBytes(StandardCharsets.UTF_8), "deep.jsonl");
        assertEquals("032949188b4193b9890ab5d732eb7608818639334ab6ad7465fafb3d94ed2bf0", m.topHash());
        assertEquals(m.topHash(), reference(m));
        assertEquals(m.topHash(), ManifestReader.read(ManifestWriter.toBytes(m), "rewritten").topHash());
    }

    /**
     * The top hash a reader computes while parsing (copying common rows' bytes, hashing on a
     * second thread for large files) equals the formula over the sorted rows, for every row shape,
     * in walk order or not, small (hashed inline) or large (hashed in the background).
     */
    @Test
    void theHashComputedWhileReadingEqualsTheFormula() throws Exception {
        for (boolean sorted : new boolean[] {true, false}) {
            for (int padding : new int[] {0, 40_000}) {
                StringBuilder sb = new StringBuilder("{\"version\":\"v0\",\"message\":\"m\",\"user_meta\":{\"b\":[1,2.5],\"a\":\"\u00e9\"}}\n");
                String sha = "ab".repeat(32);
                String b64 = java.util.Base64.getEncoder().encodeToString(new byte[32]);
                String crc = java.util.Base64.getEncoder().encodeToString(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
                java.util.List<String> rows = new java.util.ArrayList<>();
                rows.add("{\"logical_key\":\"a/plain.txt\",\"physical_keys\":[\"s3://b/k\"],\"size\":0,"
                        + "\"hash\":{\"type\":\"SHA256\",\"value\":\"" + sha + "\"},\"meta\":{}}");
                rows.add("{ \"hash\" : {\"value\":\"" + b64 + "\",\"type\":\"sha2-256-chunked\"}, \"size\":12345678901,"
                        + "\"physical_keys\":[\"file:///x\"],\"logical_key\":\"a/reordered\"}");
                rows.add("{\"logical_key\":\"a/crc\",\"physical_keys\":[\"s3://b/c\"],\"size\":3,"
                        + "\"hash\":{\"type\":\"CRC64NVME\",\"value\":\"" + crc + "\"}}");
                rows.add("{\"logical_key\":\"b/meta\",\"physical_keys\":[\"s3://b/m\"],\"size\":1,"
                        + "\"hash\":{\"type\":\"SHA256\",\"value\":\"" + sha + "\"},\"meta\":{\"z\":1,\"a\":{\"y\":null}}}");
                rows.add("{\"logical_key\":\"b/d\\u00e9j\\u00e0 \\\"q\\\" \\\\\",\"physical_keys\":[\"s3://b/u\"],\"size\":2,"
                        + "\"hash\":{\"type\":\"SHA256\",\"value\":\"" + sha + "\"}}");
                rows.add("{\"logical_key\":\"b/odd\",\"physical_keys\":[\"s3://b/o\"],\"size\":4,"
                        + "\"hash\":{\"type\":\"SHA256\",\"value\":\"" + sha.toUpperCase() + "\"}}");
                rows.add("{\"logical_key\":\"b/extra\",\"physical_keys\":[\"s3://b/e\"],\"size\":5,\"x\":true,"
                        + "\"hash\":{\"type\":\"SHA256\",\"value\":\"" + sha + "\"}}");
                rows.add("{\"logical_key\":\"c/\",\"meta\":{\"folder\":1}}");
                for (int i = 0; i < padding; i++) {
                    rows.add("{\"logical_key\":\"p/" + i + "\",\"physical_keys\":[\"s3://b/p/" + i
                            + "\"],\"size\":" + i + ",\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + b64 + "\"}}");
                }
                if (!sorted) {
                    java.util.Collections.reverse(rows);
                }
                rows.forEach(r -> sb.append(r).append('\n'));
                byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
                Manifest m = ManifestReader.read(bytes, "test");
                assertEquals(TopHash.compute(m), m.topHash(), "sorted " + sorted + ", " + bytes.length + " bytes");
                assertEquals(reference(m), m.topHash());
                java.nio.file.Path f = java.nio.file.Files.createTempFile("tophash", ".jsonl");
                try {
                    java.nio.file.Files.write(f, bytes);
                    assertEquals(m.topHash(), ManifestReader.read(f).topHash());
                } finally {
                    java.nio.file.Files.delete(f);
                }
            }
        }
    }

    private static String reference(Manifest m) {
        MessageDigest md = Sha256.newDigest();
        ObjectNode header = m.header();
        header.remove("top_hash");
        md.update(CanonicalJson.toString(header).getBytes(StandardCharsets.US_ASCII));
        for (Entry e : m.entries()) {
            ObjectNode row = Json.object();
            row.putObject("hash").put("type", e.hash().type().wireName()).put("value", e.hash().value());
            row.put("logical_key", e.logicalKey());
            row.set("meta", e.meta());
            row.put("size", e.size());
            md.update(CanonicalJson.toString(row).getBytes(StandardCharsets.US_ASCII));
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
