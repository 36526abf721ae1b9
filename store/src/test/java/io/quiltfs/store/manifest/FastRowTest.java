package io.quiltfs.store.manifest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The byte-level row parser accepts only rows that the Jackson path reads the same way, and
 * hands everything else back (so the Jackson path keeps every error message).
 */
class FastRowTest {
    private static final String B64 = "kCOevah/vkkki4QlrgLX764NuZc1eOzYwmq0xFWNxJk=";
    private static final String HEX = "e258d248fda94c63753607f7c4494ee0fcbe92f1a76bfdac795c9d84101eb317";

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"logical_key\":\"a/b.txt\",\"physical_keys\":[\"s3://b/a/b.txt?versionId=x\"],\"size\":12,"
                + "\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"},\"meta\":{}}",
        " { \"meta\" : { } , \"size\" : 0 ,\t\"hash\" : { \"value\" : \"" + B64 + "\" , \"type\" : "
                + "\"sha2-256-chunked\" } , \"physical_keys\" : [ \"file:///x\" ] , \"logical_key\" : \"k\" }\r",
        "{\"logical_key\":\"x.y\",\"physical_keys\":[\"p\"],\"size\":999999999999999999,"
                + "\"hash\":{\"type\":\"SHA256\",\"value\":\"" + HEX + "\"}}",
        "{\"logical_key\":\"...a/.b/c..\",\"physical_keys\":[\"p\"],\"size\":8,"
                + "\"hash\":{\"type\":\"CRC64NVME\",\"value\":\"AAECAwQFBgc=\"},\"meta\":{}}",
    })
    void acceptsTheCommonShapeAsJacksonReadsIt(String line) throws IOException {
        FastRow f = new FastRow();
        byte[] b = ("xx" + line + "yy").getBytes(StandardCharsets.UTF_8);
        assertTrue(f.parse(b, 2, b.length - 4), line);
        JsonNode row = Json.MAPPER.readTree(line);
        assertEquals(row.get("logical_key").textValue(), new String(b, f.keyOff, f.keyLen, StandardCharsets.UTF_8));
        assertEquals(row.get("physical_keys").get(0).textValue(),
                new String(b, f.physOff, f.physLen, StandardCharsets.UTF_8));
        assertEquals(row.get("size").longValue(), f.size);
        HashType t = HashType.fromWire(row.get("hash").get("type").textValue());
        assertEquals(t, f.type);
        byte[] raw = Checksum.of(t, row.get("hash").get("value").textValue()).raw();
        assertArrayEquals(raw, Arrays.copyOf(f.digest, t.length()));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        // strings that need decoding or are not ASCII
        "{\"logical_key\":\"d\\u00e9j\\u00e0\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\\\"b\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"d\u00e9j\u00e0\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\u007fb\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        // meta that is not the empty object, extra fields, duplicates
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"},\"meta\":{\"x\":1}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"},\"meta\":null}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"},\"other\":1}",
        "{\"logical_key\":\"a\",\"logical_key\":\"b\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"type\":\"SHA256\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\",\"x\":1}}",
        // physical keys
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\",\"q\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":null,\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        // sizes
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":-1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1.0,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1e3,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":01,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1000000000000000000,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":\"1\",\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        // hash values and types
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"MD5\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"kCOevah/vkkki4QlrgLX764NuZc1eOzYwmq0xFWNxJl=\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"kCOevah/vkkki4QlrgLX764NuZc1eOzYwmq0xFWNxJk\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"kCOevah_vkkki4QlrgLX764NuZc1eOzYwmq0xFWNxJk=\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"SHA256\",\"value\":\"E258d248fda94c63753607f7c4494ee0fcbe92f1a76bfdac795c9d84101eb317\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"CRC64NVME\",\"value\":\"AAECAwQFBgf=\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":null}",
        // keys the Jackson path must reject (or read as a folder row)
        "{\"logical_key\":\"\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"/a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a/\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a//b\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a/./b\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"..\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a/..\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        // missing fields and broken JSON
        "{\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\",\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}} x",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}",
        "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"},}",
        "{\"logical_key\":\"a\" \"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}",
        "{}",
        "[]",
        "",
    })
    void handsEverythingElseToJackson(String line) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        assertFalse(new FastRow().parse(b, 0, b.length), line);
    }

    @Test
    void errorsStillComeFromTheJacksonPathWithTheirLine() {
        String header = "{\"version\":\"v0\"}\n";
        String good = "{\"logical_key\":\"a\",\"physical_keys\":[\"p\"],\"size\":1,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}\n";
        String dup = "{\"logical_key\":\"b\",\"size\":1,\"size\":2,\"physical_keys\":[\"p\"],\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"}}\n";
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestReader.read(
                (header + good + dup).getBytes(StandardCharsets.UTF_8), "m.jsonl"));
        assertTrue(e.getMessage().contains("3"), e.getMessage());
        assertTrue(e.getMessage().toLowerCase().contains("duplicate"), e.getMessage());
    }

    @Test
    void mixedFastAndJacksonRowsGiveTheTopHashOfTheJacksonPathAlone() throws IOException {
        String header = "{\"message\":\"m\",\"version\":\"v0\"}\n";
        String fast = "{\"logical_key\":\"a/1\",\"physical_keys\":[\"p\"],\"size\":5,\"hash\":{\"type\":\"sha2-256-chunked\",\"value\":\"" + B64 + "\"},\"meta\":{}}\n";
        // Same rows written so that only Jackson reads them: escaped characters and key order.
        String slow = "{\"meta\":{},\"logical_key\":\"a\\/1\",\"physical_keys\":[\"p\"],\"size\":5,\"hash\":{\"value\":\"" + B64 + "\",\"type\":\"sha2-256-chunked\"}}\n";
        String fast2 = "{\"logical_key\":\"b\",\"physical_keys\":[\"q\"],\"size\":7,\"hash\":{\"type\":\"SHA256\",\"value\":\"" + HEX + "\"}}\n";
        String slow2 = "{\"logical_key\":\"\\u0062\",\"physical_keys\":[\"q\"],\"size\":7,\"hash\":{\"type\":\"SHA256\",\"value\":\"" + HEX + "\"}}\n";
        Manifest viaFast = ManifestReader.read((header + fast + fast2).getBytes(StandardCharsets.UTF_8), "fast");
        Manifest viaSlow = ManifestReader.read((header + slow + slow2).getBytes(StandardCharsets.UTF_8), "slow");
        assertEquals(viaSlow.topHash(), viaFast.topHash());
        assertEquals(viaSlow.entries(), viaFast.entries());
    }
}
