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
