package io.quiltfs.store.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.hash.Sha256;
import io.quiltfs.store.json.AsciiBuffer;
import io.quiltfs.store.json.CanonicalJson;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The top hash: SHA-256 over canon(header without top_hash) followed by, for each file row in
 * walk order, canon({"hash","logical_key","meta","size"}). Physical keys and directory rows are
 * not hashed. Rows are written straight from the columnar store (keys escaped from UTF-8 without
 * making Strings) because this runs over millions of rows.
 */
public final class TopHash {
    private static final byte[][] PREFIXES = prefixes();
    private static final int FLUSH_AT = 64 * 1024;
    private static final byte[] HEXDIGITS = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private TopHash() {
    }

    public static String compute(Manifest m) {
        MessageDigest md = Sha256.newDigest();
        AsciiBuffer buf = new AsciiBuffer(4096);
        ObjectNode header = m.headerView().deepCopy();
        header.remove("top_hash");
        CanonicalJson.write(header, buf);
        buf.digestInto(md);
        buf.clear();
        Rows rows = m.rows();
        byte[] digest = new byte[Rows.SLOT];
        byte[] b64 = new byte[64];
        int n = rows.size();
        for (int i = 0; i < n; i++) {
            // Rows are digested in batches: SHA-256 is a stream, and one update per row costs more.
            if (buf.length() > FLUSH_AT) {
                buf.digestInto(md);
                buf.clear();
            }
            HashType t = rows.hashType(i);
            byte[] prefix = PREFIXES[t.ordinal()];
            buf.append(prefix, 0, prefix.length);
            if (rows.hasCanonicalValue(i)) {
                int len = rows.digest(i, digest);
                buf.append('"');
                if (t == HashType.SHA256) {
                    for (int k = 0; k < len; k++) {
                        buf.appendByte(HEXDIGITS[(digest[k] >> 4) & 0xf]).appendByte(HEXDIGITS[digest[k] & 0xf]);
                    }
                } else {
                    int w = Base64.getEncoder().encode(len == Rows.SLOT ? digest : java.util.Arrays.copyOf(digest, len), b64);
                    for (int k = 0; k < w; k++) {
                        buf.appendByte(b64[k]);
                    }
                }
                buf.append('"');
            } else {
                CanonicalJson.writeString(rows.checksum(i).value(), buf);
            }
            buf.appendAscii("},\"logical_key\":");
            writeKey(rows, i, buf);
            buf.appendAscii(",\"meta\":");
            JsonNode meta = rows.metaOrNull(i);
            if (meta == null) {
                buf.appendAscii("{}");
            } else {
                CanonicalJson.write(meta, buf);
            }
            buf.appendAscii(",\"size\":");
            buf.appendLong(rows.sizeOf(i));
            buf.append('}');
        }
        buf.digestInto(md);
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * Writes row i's key as a canonical JSON string. Printable ASCII (nearly every key) is copied
     * straight from the UTF-8 bytes; anything else takes the general path through a String.
     */
    private static void writeKey(Rows rows, int i, AsciiBuffer buf) {
        byte[] keys = rows.keyBytes();
        int from = rows.keyStart(i);
        int to = rows.keyStart(i + 1);
        boolean quotes = false;
        for (int k = from; k < to; k++) {
            byte c = keys[k];
            if (c < 0x20 || c > 0x7e) {
                CanonicalJson.writeString(rows.key(i), buf);
                return;
            }
            quotes |= c == '"' || c == '\\';
        }
        buf.append('"');
        if (!quotes) {
            buf.append(keys, from, to - from);
        } else {
            for (int k = from; k < to; k++) {
                byte c = keys[k];
                if (c == '"' || c == '\\') {
                    buf.append('\\');
                }
                buf.appendByte(c);
            }
        }
        buf.append('"');
    }

    /** {@code {"hash":{"type":"<type>","value":} per hash type, as canonical JSON bytes. */
    private static byte[][] prefixes() {
        HashType[] types = HashType.values();
        byte[][] out = new byte[types.length][];
        for (HashType t : types) {
            AsciiBuffer b = new AsciiBuffer(64);
            b.appendAscii("{\"hash\":{\"type\":");
            CanonicalJson.writeString(t.wireName(), b);
            b.appendAscii(",\"value\":");
            out[t.ordinal()] = b.toByteArray();
        }
        return out;
    }

    /** Lowercase hex check for a top hash (64 hex digits). */
    public static boolean isTopHash(String s) {
        if (s == null || s.length() != 64) {
            return false;
        }
        for (int i = 0; i < 64; i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }
}
