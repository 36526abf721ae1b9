package io.quiltfs.store.manifest;

import com.fasterxml.jackson.core.JsonGenerationException;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.JsonGeneratorDelegate;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiltfs.store.json.Json;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes a manifest as compact JSONL: the header, then rows in walk order with each directory
 * row just before the rows under it; a newline after every line, the last included. Rows keep
 * their {@code meta} and the fields quiltfs does not interpret.
 */
public final class ManifestWriter {
    private ManifestWriter() {
    }

    public static byte[] toBytes(Manifest m) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + m.size() * 200);
        try {
            write(m, out);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out.toByteArray();
    }

    public static void write(Manifest m, OutputStream os) throws IOException {
        OutputStream out = new BufferedOutputStream(os, 1 << 16);
        try (JsonGenerator g = new FiniteNumbers(Json.MAPPER.getFactory().createGenerator(out))) {
            g.setRootValueSeparator(null);
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            ObjectNode header = m.headerView().deepCopy();
            header.remove("top_hash");
            Json.MAPPER.writeTree(g, header);
            g.writeRaw('\n');
            List<ObjectNode> dirs = m.dirRowsView();
            int d = 0;
            Rows rows = m.rows();
            for (int i = 0; i < rows.size(); i++) {
                String key = rows.key(i);
                while (d < dirs.size() && LogicalKey.compare(dirKey(dirs.get(d)), key) < 0) {
                    Json.MAPPER.writeTree(g, dirs.get(d++));
                    g.writeRaw('\n');
                }
                g.writeStartObject();
                g.writeStringField("logical_key", key);
                g.writeArrayFieldStart("physical_keys");
                g.writeString(rows.physicalKey(i));
                g.writeEndArray();
                g.writeNumberField("size", rows.sizeOf(i));
                var sum = rows.checksum(i);
                g.writeObjectFieldStart("hash");
                g.writeStringField("type", sum.type().wireName());
                g.writeStringField("value", sum.value());
                g.writeEndObject();
                g.writeFieldName("meta");
                JsonNode meta = rows.metaOrNull(i);
                if (meta == null) {
                    g.writeStartObject();
                    g.writeEndObject();
                } else {
                    Json.MAPPER.writeTree(g, meta);
                }
                ObjectNode extras = rows.extras(i);
                if (extras != null) {
                    for (Iterator<Map.Entry<String, JsonNode>> it = extras.fields(); it.hasNext(); ) {
                        var f = it.next();
                        g.writeFieldName(f.getKey());
                        Json.MAPPER.writeTree(g, f.getValue());
                    }
                }
                g.writeEndObject();
                g.writeRaw('\n');
            }
            while (d < dirs.size()) {
                Json.MAPPER.writeTree(g, dirs.get(d++));
                g.writeRaw('\n');
            }
        }
        out.flush();
    }

    /**
     * Writes an infinite double as a number that reads back as the same infinity ({@code 1e400}),
     * where Jackson would write the string {@code "Infinity"}: a manifest read with such a number
     * (JSON allows any exponent; Python and Java read it as infinity, and the top hash spells it
     * {@code Infinity}) must keep its top hash when written back. NaN has no JSON spelling at all
     * and is refused (reading never produces one).
     */
    private static final class FiniteNumbers extends JsonGeneratorDelegate {
        FiniteNumbers(JsonGenerator g) {
            super(g, false);
        }

        @Override
        public void writeNumber(double v) throws IOException {
            if (Double.isNaN(v)) {
                throw new JsonGenerationException("NaN cannot be written to a manifest (JSON has no NaN)", this);
            }
            if (Double.isInfinite(v)) {
                delegate.writeNumber(v > 0 ? "1e400" : "-1e400");
            } else {
                delegate.writeNumber(v);
            }
        }

        @Override
        public void writeNumber(float v) throws IOException {
            writeNumber((double) v);
        }
    }

    /** A directory row's key without its trailing slash. */
    private static String dirKey(ObjectNode row) {
        String k = row.path("logical_key").asText();
        return k.substring(0, k.length() - 1);
    }
}
