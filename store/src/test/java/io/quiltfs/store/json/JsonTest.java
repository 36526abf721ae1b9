package io.quiltfs.store.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class JsonTest {
    private static String refused(String text) {
        return assertThrows(IllegalArgumentException.class, () -> Json.parse(text)).getMessage();
    }

    @Test
    void numbersTooLargeForADoubleAreRefusedNamingWhere() {
        // Python reads 1e999 as inf; json.dumps would write Infinity, which is not JSON.
        assertEquals("invalid JSON: the number at /x is out of range (too large for a 64-bit float;"
                + " JSON has no Infinity)", refused("{\"x\":1e999}"));
        assertEquals("invalid JSON: the number at /a~1b/2/c is out of range (too large for a 64-bit float;"
                + " JSON has no Infinity)", refused("{\"ok\":1.5,\"a/b\":[0,1,{\"c\":-1e400}]}"));
        assertEquals("invalid JSON: the number at the top level is out of range (too large for a 64-bit float;"
                + " JSON has no Infinity)", refused("1e309"));
    }

    @Test
    void largeIntegersAndTinyFloatsAreFine() {
        assertEquals("123456789012345678901234567890", Json.parse("123456789012345678901234567890").toString());
        assertEquals(0.0, Json.parse("{\"x\":1e-400}").get("x").doubleValue());
        assertEquals(1.7976931348623157e308, Json.parse("[1.7976931348623157e308]").get(0).doubleValue());
    }

    @Test
    void malformedTextIsRefused() {
        assertEquals(true, refused("{\"x\":").startsWith("invalid JSON: "));
    }

    @Test
    void errorsDoNotMentionTheHiddenSource() {
        String m = refused("{\"a\":1");
        assertTrue(m.startsWith("invalid JSON: Unexpected end-of-input"), m);
        assertFalse(m.contains("Source") || m.contains("REDACTED") || m.contains("\n"), m);
        assertTrue(m.contains("line: 1, column: 1"), "the location stays: " + m);
    }
}
