package io.quiltfs.store.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The JSON text Python writes with {@code sort_keys=True, separators=(",", ":"),
 * ensure_ascii=True}: keys in code-point order at every depth, no whitespace, every character
 * outside U+0020..U+007E escaped as lowercase {@code \\uXXXX} (UTF-16 units), integers exactly,
 * floats as Python's {@code repr}. The output is pure ASCII.
 */
public final class CanonicalJson {
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** Orders strings by Unicode code point (Java's compareTo orders by UTF-16 unit). */
    public static final Comparator<String> CODE_POINT_ORDER = CanonicalJson::compareCodePoints;

    private CanonicalJson() {
    }

    /**
     * Compares by Unicode code point, as Python compares {@code str}. A JSON string may hold
     * unpaired surrogates ({@code "\\ud800"} is valid JSON and Python keeps it as the code point
     * U+D800), so a surrogate counts as an astral character only when it is half of a pair.
     */
    public static int compareCodePoints(String a, String b) {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char x = a.charAt(i);
            char y = b.charAt(i);
            if (x != y) {
                if (!Character.isSurrogate(x) && !Character.isSurrogate(y)) {
                    return x - y;
                }
                // Back up to the start of a pair that either side continues at i (the unit
                // before i is the same in both strings).
                int at = i > 0 && Character.isHighSurrogate(a.charAt(i - 1))
                        && (Character.isLowSurrogate(x) || Character.isLowSurrogate(y)) ? i - 1 : i;
                return Integer.compare(Character.codePointAt(a, at), Character.codePointAt(b, at));
            }
        }
        return a.length() - b.length();
    }

    /** Canonical text of a tree as an ASCII string (for tests and small values). */
    public static String toString(JsonNode node) {
        AsciiBuffer b = new AsciiBuffer(64);
        write(node, b);
        return b.toString();
    }

    public static void write(JsonNode node, AsciiBuffer out) {
        JsonNodeType t = node.getNodeType();
        switch (t) {
            case OBJECT -> {
                int size = node.size();
                if (size == 0) {
                    out.append('{').append('}');
                    return;
                }
                List<Map.Entry<String, JsonNode>> fields = new ArrayList<>(size);
                for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                    fields.add(it.next());
                }
                if (size > 1) {
                    fields.sort((x, y) -> compareCodePoints(x.getKey(), y.getKey()));
                }
                out.append('{');
                boolean first = true;
                for (var f : fields) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    writeString(f.getKey(), out);
                    out.append(':');
                    write(f.getValue(), out);
                }
                out.append('}');
            }
            case ARRAY -> {
                out.append('[');
                for (int i = 0; i < node.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    write(node.get(i), out);
                }
                out.append(']');
            }
            case STRING -> writeString(node.textValue(), out);
            case NUMBER -> {
                if (node.isIntegralNumber()) {
                    out.appendAscii(node.bigIntegerValue().toString());
                } else if (node.isBigDecimal()) {
                    out.appendAscii(PyFloat.repr(node.decimalValue().doubleValue()));
                } else {
                    out.appendAscii(PyFloat.repr(node.doubleValue()));
                }
            }
            case BOOLEAN -> out.appendAscii(node.booleanValue() ? "true" : "false");
            case NULL, MISSING -> out.appendAscii("null");
            default -> throw new IllegalArgumentException("not JSON data: " + t);
        }
    }

    /** Writes a JSON string literal with Python's ensure_ascii escaping. */
    public static void writeString(String s, AsciiBuffer out) {
        out.append('"');
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c <= 0x7e) {
                if (c == '"' || c == '\\') {
                    out.append('\\');
                }
                out.append(c);
            } else {
                switch (c) {
                    case '\n' -> out.append('\\').append('n');
                    case '\r' -> out.append('\\').append('r');
                    case '\t' -> out.append('\\').append('t');
                    case '\b' -> out.append('\\').append('b');
                    case '\f' -> out.append('\\').append('f');
                    default -> out.append('\\').append('u')
                            .appendByte(HEX[(c >> 12) & 0xf]).appendByte(HEX[(c >> 8) & 0xf])
                            .appendByte(HEX[(c >> 4) & 0xf]).appendByte(HEX[c & 0xf]);
                }
            }
        }
        out.append('"');
    }
}
