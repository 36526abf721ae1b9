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
    /** What follows a hash value and precedes the key, and what follows the key, in a common-shape row. */
    private static final byte[] KEY_FIELD = "\"},\"logical_key\":\"".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] META_SIZE_FIELDS = "\",\"meta\":{},\"size\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
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
            writeRow(rows, i, buf, digest, b64);
        }
        buf.digestInto(md);
        return HexFormat.of().formatHex(md.digest());
    }

    /** Appends row i's canonical form; {@code digest} and {@code b64} are scratch space. */
    private static void writeRow(Rows rows, int i, AsciiBuffer buf, byte[] digest, byte[] b64) {
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

    /**
     * The top hash computed while a manifest is read, row by row in the order read: valid when
     * the rows turn out to be in walk order (the reader checks; otherwise it drops the stream and
     * {@link #compute} runs over the sorted rows). The reading thread writes each row's canonical
     * form, which for a row of the common shape is a copy of its bytes from the line; SHA-256
     * runs on a second thread when {@code background}, so verifying a large manifest costs
     * little more than reading it. One reader thread; {@link #close} always.
     */
    static final class Stream implements AutoCloseable {
        private static final int CHUNK = 256 * 1024;
        private static final AsciiBuffer DONE = new AsciiBuffer(16);
        private final MessageDigest md = Sha256.newDigest();
        private final byte[] digest = new byte[Rows.SLOT];
        private final byte[] b64 = new byte[64];
        private final java.util.concurrent.BlockingQueue<AsciiBuffer> full;
        private final java.util.concurrent.BlockingQueue<AsciiBuffer> free;
        private final Thread worker;
        private AsciiBuffer buf = new AsciiBuffer(CHUNK + 4096);
        private volatile boolean abandoned;

        /** Starts with the header (without {@code top_hash}). */
        Stream(ObjectNode header, boolean background) {
            CanonicalJson.write(header, buf);
            if (!background) {
                full = null;
                free = null;
                worker = null;
                return;
            }
            full = new java.util.concurrent.ArrayBlockingQueue<>(4);
            free = new java.util.concurrent.ArrayBlockingQueue<>(4);
            for (int i = 0; i < 3; i++) {
                free.add(new AsciiBuffer(CHUNK + 4096));
            }
            worker = new Thread(this::digestChunks, "quiltfs-tophash");
            worker.setDaemon(true);
            worker.start();
        }

        private void digestChunks() {
            try {
                while (true) {
                    AsciiBuffer b = full.take();
                    if (b == DONE) {
                        return;
                    }
                    if (!abandoned) {
                        b.digestInto(md);
                    }
                    b.clear();
                    free.put(b);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Row i of {@code rows} (any shape), just added. */
        void row(Rows rows, int i) {
            writeRow(rows, i, buf, digest, b64);
            flushIfFull();
        }

        /**
         * A row of the common shape read by {@link FastRow} from {@code line}: its hash value
         * (canonical spelling, printable ASCII) and key (printable ASCII without quote or
         * backslash) are their canonical JSON as they stand, and its meta is empty.
         */
        void fastRow(byte[] line, HashType type, int valueOff, int valueLen, int keyOff, int keyLen, long size) {
            byte[] prefix = PREFIXES[type.ordinal()];
            buf.append(prefix, 0, prefix.length);
            buf.append('"');
            buf.append(line, valueOff, valueLen);
            buf.append(KEY_FIELD, 0, KEY_FIELD.length);
            buf.append(line, keyOff, keyLen);
            buf.append(META_SIZE_FIELDS, 0, META_SIZE_FIELDS.length);
            buf.appendLong(size);
            buf.append('}');
            flushIfFull();
        }

        private void flushIfFull() {
            if (buf.length() > CHUNK) {
                flush();
            }
        }

        private void flush() {
            if (worker == null) {
                buf.digestInto(md);
                buf.clear();
                return;
            }
            try {
                full.put(buf);
                buf = free.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while hashing a manifest", e);
            }
        }

        /** The top hash of the header and every row given, in that order. */
        String finish() {
            flush();
            if (worker != null) {
                try {
                    full.put(DONE);
                    worker.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while hashing a manifest", e);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        }

        /** Stops the second thread (if still running) without a result. */
        @Override
        public void close() {
            if (worker != null && worker.isAlive()) {
                abandoned = true;
                worker.interrupt();
            }
        }
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
