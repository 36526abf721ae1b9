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
        Rows rows = m.rows();
        byte[] digest = new byte[Rows.SLOT];
        byte[] b64 = new byte[64];
        int n = rows.size();
        for (int i = 0; i < n; i++) {
            buf.clear();
            buf.appendAscii("{\"hash\":{\"type\":");
            HashType t = rows.hashType(i);
            CanonicalJson.writeString(t.wireName(), buf);
            buf.appendAscii(",\"value\":");
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
            buf.digestInto(md);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void writeKey(Rows rows, int i, AsciiBuffer buf) {
        String key = rows.key(i);
        CanonicalJson.writeString(key, buf);
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
