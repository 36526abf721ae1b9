package io.quiltfs.nativetests.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiltfs.store.cache.Fetcher;
import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.json.CanonicalJson;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/** Assertions that the two clients agree: on a manifest, on fetched bytes, on a folder. */
final class Agreement {
    private Agreement() {
    }

    /** Canonical JSON text (what the top hash sees), so that number spellings cannot differ. */
    static String canon(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode() ? "null" : CanonicalJson.toString(n);
    }

    static String canon(String json) {
        return canon(Json.parse(json));
    }

    /**
     * quilt3's view of a revision (driver {@code browse}) and quiltfs's manifest say the same:
     * top hash, header, every row (walk order, size, hash, meta, physical key), folder rows.
     */
    static void sameManifest(JsonNode quilt3, Manifest m) {
        assertEquals(quilt3.get("top_hash").asText(), m.topHash(), "top hash: quilt3 vs quiltfs");
        assertEquals(canon(quilt3.get("header")), canon(m.header()), "header: quilt3 vs quiltfs");
        List<String> q3Keys = new ArrayList<>();
        quilt3.get("rows").forEach(r -> q3Keys.add(r.get("logical_key").asText()));
        List<String> keys = new ArrayList<>();
        m.entries().forEach(e -> keys.add(e.logicalKey()));
        assertEquals(q3Keys, keys, "logical keys in walk order: quilt3 vs quiltfs");
        for (int i = 0; i < m.size(); i++) {
            JsonNode r = quilt3.get("rows").get(i);
            Entry e = m.entry(i);
            String k = e.logicalKey();
            assertEquals(r.get("size").asLong(), e.size(), "size of " + k);
            assertEquals(r.get("hash").get("type").asText(), e.hash().type().wireName(), "hash type of " + k);
            assertEquals(r.get("hash").get("value").asText(), e.hash().value(), "hash value of " + k);
            assertEquals(canon(r.get("meta")), canon(e.meta()), "meta of " + k);
            assertEquals(PhysicalKey.parse(r.get("physical_key").asText()), PhysicalKey.parse(e.physicalKey()),
                    "physical key of " + k);
        }
        Map<String, String> q3Dirs = new TreeMap<>();
        quilt3.get("dirs").forEach(d -> q3Dirs.put(d.get("logical_key").asText(), canon(d.get("meta"))));
        Map<String, String> dirs = new TreeMap<>();
        for (ObjectNode d : m.directoryRows()) {
            dirs.put(d.get("logical_key").asText(), canon(d.get("meta")));
        }
        assertEquals(q3Dirs, dirs, "folder-metadata rows: quilt3 vs quiltfs");
    }

    /**
     * Fetches every row of {@code m} into a fresh object cache through quiltfs's Fetcher (which
     * verifies each object against its row's hash) and checks the bytes against {@code expected}.
     */
    static void fetchesSameBytes(Manifest m, Registry r, TestRegistries.Kind kind, Path home,
                                 Map<String, Path> expected) throws IOException {
        var env = kind.environment();
        S3Settings s3 = S3Settings.fromEnvironment(env.getOrDefault("AWS_ENDPOINT_URL_S3",
                env.get("AWS_ENDPOINT_URL")), System.getenv());
        Fetcher f = new Fetcher(new ObjectCache(new Home(home)), pk -> {
            try {
                return Registries.sourceFor(pk, r, s3);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertEquals(new TreeSet<>(expected.keySet()), keySet(m), "logical keys");
        for (Entry e : m.entries()) {
            Path got = f.fetch(e);
            assertEquals(-1L, Files.mismatch(got, expected.get(e.logicalKey())),
                    "bytes of " + e.logicalKey() + " fetched by quiltfs");
        }
    }

    static TreeSet<String> keySet(Manifest m) {
        TreeSet<String> s = new TreeSet<>();
        m.entries().forEach(e -> s.add(e.logicalKey()));
        return s;
    }

    /** {@code dir} holds exactly the files of {@code expected}, byte for byte. */
    static void sameFiles(Path dir, Map<String, Path> expected) throws IOException {
        TreeSet<String> found = new TreeSet<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.filter(Files::isRegularFile).forEach(p -> found.add(dir.relativize(p).toString()));
        }
        assertEquals(new TreeSet<>(expected.keySet()), found, "files in " + dir);
        for (Map.Entry<String, Path> e : expected.entrySet()) {
            assertEquals(-1L, Files.mismatch(dir.resolve(e.getKey()), e.getValue()), "bytes of " + e.getKey());
        }
    }

    /** The first text field named {@code field} anywhere in {@code n}, or null. */
    static String find(JsonNode n, String field) {
        if (n == null) {
            return null;
        }
        if (n.isObject()) {
            JsonNode v = n.get(field);
            if (v != null && v.isValueNode()) {
                return v.asText();
            }
        }
        for (JsonNode c : n) {
            String v = find(c, field);
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    static void assertContains(JsonNode array, String value, String what) {
        List<String> all = new ArrayList<>();
        array.forEach(v -> all.add(v.asText()));
        assertTrue(all.contains(value), what + ": " + value + " not in " + all);
    }
}
