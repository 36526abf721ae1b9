package io.quiltfs.store.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The one configured Jackson mapper: integers keep any size (BigInteger past long), floats stay
 * floats, duplicate object keys are an error (Python keeps the last; we refuse to guess).
 */
public final class Json {
    /** Shared, thread-safe after configuration. */
    public static final ObjectMapper MAPPER = JsonMapper.builder(
                    JsonFactory.builder()
                            .streamReadConstraints(StreamReadConstraints.builder()
                                    .maxStringLength(64 * 1024 * 1024)
                                    // quilt3 writes metadata nested until Python's recursion
                                    // limit (1000 frames) stops it, about 980 deep: read all of it.
                                    .maxNestingDepth(1000)
                                    .build())
                            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                            .build())
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .build();

    public static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private Json() {
    }

    public static ObjectNode object() {
        return NODES.objectNode();
    }

    /**
     * Parses JSON text into a tree; throws IllegalArgumentException with the parser's reason. A
     * number too large for a double ({@code 1e999}) is refused, naming where it is: it would be
     * infinity, which JSON cannot spell (Jackson would write the string "Infinity", Python a bare
     * {@code Infinity} that is not JSON, and quilt3 refuses to write a manifest holding one).
     */
    public static JsonNode parse(String text) {
        JsonNode tree;
        try {
            tree = MAPPER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(text);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("invalid JSON: " + firstLine(e.getMessage()), e);
        }
        String where = nonFinite(tree, "");
        if (where != null) {
            throw new IllegalArgumentException("invalid JSON: the number at " + (where.isEmpty() ? "the top level" : where)
                    + " is out of range (too large for a 64-bit float; JSON has no Infinity)");
        }
        return tree;
    }

    /** The JSON Pointer of the first non-finite number in {@code node}, or null. */
    private static String nonFinite(JsonNode node, String at) {
        if (node.isFloatingPointNumber() && !node.isBigDecimal()) {
            return Double.isFinite(node.doubleValue()) ? null : at;
        }
        if (node.isContainerNode()) {
            if (node.isArray()) {
                for (int i = 0; i < node.size(); i++) {
                    String w = nonFinite(node.get(i), at + "/" + i);
                    if (w != null) {
                        return w;
                    }
                }
            } else {
                for (var it = node.fields(); it.hasNext(); ) {
                    var f = it.next();
                    String w = nonFinite(f.getValue(), at + "/" + f.getKey().replace("~", "~0").replace("/", "~1"));
                    if (w != null) {
                        return w;
                    }
                }
            }
        }
        return null;
    }

    /** Compact JSON text. */
    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Indented JSON text (for --json output). */
    public static String pretty(Object value) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The first line of a (multi-line) parser message. */
    public static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int nl = message.indexOf('\n');
        String first = nl < 0 ? message : message.substring(0, nl);
        // Jackson names the source it was not allowed to show ("[Source: REDACTED (`StreamRead...`
        // disabled); line: 1, column: 1]"): noise in a one-line error.
        return first.replaceAll("\\[Source: [^;\\]]*; line", "[line");
    }
}
