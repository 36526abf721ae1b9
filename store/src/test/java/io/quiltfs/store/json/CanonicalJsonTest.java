package io.quiltfs.store.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.testing.Vectors;
import java.io.IOException;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class CanonicalJsonTest {
    private static String canon(String json) {
        return CanonicalJson.toString(Json.parse(json));
    }

    @Test
    void pythonFloatsRoundTripByteForByte() throws IOException {
        String text = Files.readString(Vectors.quilt().resolve("python_floats.json")).strip();
        JsonNode arr = Json.parse(text);
        assertEquals(text.replace(", ", ","), CanonicalJson.toString(arr));
    }

    @Test
    void floatsStayFloatsAndIntsStayInts() {
        assertEquals("[100000.0,2.0,100000,1e-05,1e+16,-0.0,0]", canon("[1e5, 2.0, 100000, 0.00001, 1e16, -0.0, -0]"));
        assertEquals("123456789012345678901234567890", canon("123456789012345678901234567890"));
        assertEquals("[0.1,1.5,1234567.0,1e+22,5e-324]", canon("[0.1,1.5,1234567.0,1e22,5e-324]"));
    }

    @Test
    void keysSortByCodePointNotUtf16() {
        // U+1F600 (a surrogate pair in UTF-16) sorts after U+FF21 by code point.
        String out = canon("{\"\uD83D\uDE00\":1,\"\uFF21\":2,\"b\":3,\"B\":4}");
        assertEquals("{\"B\":4,\"b\":3,\"\\uff21\":2,\"\\ud83d\\ude00\":1}", out);
    }

    /**
     * An unpaired surrogate (valid JSON as an escape) is its own code point to Python: U+D800..U+DFFF
     * sort below U+E000 and below every astral character, while a surrogate pair is one astral
     * character. Expected text from Python's json.dumps(..., sort_keys=True, separators=(",", ":")).
     */
    @Test
    void unpairedSurrogatesInKeysSortAsTheirOwnCodePoints() {
        String out = canon("{\"\\ue000\":1,\"\\ud800\":2,\"\\ud800\\udc00\":3,\"\\udfff\":4,\"\\ud83d\":5,"
                + "\"\\ud83dx\":6}");
        assertEquals("{\"\\ud800\":2,\"\\ud83d\":5,\"\\ud83dx\":6,\"\\udfff\":4,\"\\ue000\":1,\"\\ud800\\udc00\":3}", out);
        assertTrue(CanonicalJson.compareCodePoints("\udfff", "\ud800\udc00") < 0, "U+DFFF < U+10000");
        assertTrue(CanonicalJson.compareCodePoints("\ud800", "\ue000") < 0, "U+D800 < U+E000");
        assertTrue(CanonicalJson.compareCodePoints("\ud83d\ude00", "\ud83d\ue000") > 0, "U+1F600 > U+D83D U+E000");
        assertTrue(CanonicalJson.compareCodePoints("\ud83d\ude00", "\uffff") > 0, "U+1F600 > U+FFFF");
    }

    @Test
    void escapesLikeEnsureAscii() {
        assertEquals("\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u007f\\u00e9/\"",
                canon("\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u007f\u00e9/\""));
    }

    @Test
    void nestedObjectsAreSortedAtEveryDepth() {
        assertEquals("{\"a\":{\"x\":[{\"k\":1,\"z\":null}],\"y\":true},\"b\":false}",
                canon("{\"b\":false,\"a\":{\"y\":true,\"x\":[{\"z\":null,\"k\":1}]}}"));
        assertTrue(CanonicalJson.compareCodePoints("a", "b") < 0);
    }
}
