package io.quiltfs.store.manifest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.PhysicalKey;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads JSONL manifests, streaming, one line at a time. {@link #read} stops at the first error;
 * {@link #validate} reports every problem with its line number. Both refuse: malformed JSON, a
 * missing field, an unknown hash type, a negative or non-integer size, an invalid logical key
 * (empty, absolute, {@code .}/{@code ..}/empty component, NUL, an unpaired surrogate), duplicate
 * keys or folder rows, a file that is also a folder, a number of physical keys other than one,
 * and a line over 1 MB. Validation also refuses a physical key that is not one of the spec's URL
 * forms, and warns about a hash value that is not the canonical encoding for its type (the
 * manifest still reads and hashes; only fetching that content fails).
 */
public final class ManifestReader {
    /** Longest accepted line, in bytes (without its newline). */
    public static final int MAX_LINE = 1024 * 1024;
    private static final JsonFactory FACTORY = Json.MAPPER.getFactory();
    /** From this size on, a read hashes on a second thread while it parses. */
    private static final long HASH_IN_BACKGROUND_FROM = 4L << 20;

    private final String source;
    private final boolean collectAll;
    private final List<Problem> problems = new ArrayList<>();
    private final Rows rows;
    private final List<ObjectNode> dirRows = new ArrayList<>();
    /** The line of each directory row, in the order of {@link #dirRows}. */
    private long[] dirLines = new long[4];
    /** Reads the common row shape without Jackson; every other line takes the Jackson path. */
    private final FastRow fast = new FastRow();
    private long[] rowLines = new long[16];
    private ObjectNode header;
    private final long fileBytes;
    /** The top hash, computed as rows are read (when {@link #hashWhileReading}). */
    private TopHash.Stream topHash;
    /**
     * Compute the top hash while reading: for bytes from a registry, which are verified against
     * their name right away. A file (a manifest the home already verified) is not re-hashed.
     */
    private boolean hashWhileReading;

    private ManifestReader(String source, boolean collectAll, long fileBytes) {
        this.source = source;
        this.collectAll = collectAll;
        this.fileBytes = fileBytes;
        this.rows = fileBytes > 0 ? Rows.forFileOf(fileBytes) : new Rows();
        if (fileBytes > 0) {
            rowLines = new long[Math.max(16, (int) Math.min(fileBytes / 256, 64L << 20))];
        }
    }

    private ManifestReader(String source, boolean collectAll) {
        this(source, collectAll, 0);
    }

    public static Manifest read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            ManifestReader r = new ManifestReader(file.toString(), false,
                    Files.isRegularFile(file) ? Files.size(file) : 0);
            return r.readAll(in);
        }
    }

    /** Reads a manifest; throws {@link ManifestException} naming the line and key on bad input. */
    public static Manifest read(InputStream in, String source) throws IOException {
        return new ManifestReader(source, false).readAll(in);
    }

    /** Reads a manifest held in memory, computing its top hash on the way (see {@link Manifest#topHash}). */
    public static Manifest read(byte[] data, String source) throws IOException {
        ManifestReader r = new ManifestReader(source, false, data.length);
        r.hashWhileReading = true;
        return r.readAll(new java.io.ByteArrayInputStream(data));
    }

    /** Most bytes allocated before any have arrived: the rest as they come. */
    private static final int FIRST_BUFFER = 64 << 20;

    /**
     * A registry's manifest bytes, read from {@code in} ({@code size} bytes expected, -1 when
     * unknown) to be parsed with {@link #read(byte[], String)}. Stops as soon as a line is over
     * {@link #MAX_LINE} and returns what it has (fewer than {@code size} bytes: the caller can
     * drop the rest of the stream), whose parse reports that line: a hostile file of gigabytes in
     * one line costs a few MB and a moment, not its size in memory. Throws once it has read 2 GB.
     */
    public static byte[] readBytes(InputStream in, long size, String source) throws IOException {
        long max = Integer.MAX_VALUE - 16;
        byte[] b = new byte[(int) (size >= 0 ? Math.min(size, FIRST_BUFFER) : 1 << 20)];
        int n = 0;
        long lastNewline = -1;
        while (true) {
            if (size >= 0 && n == size) {
                return b; // what the file or object said it holds (a change meanwhile fails the hash check)
            }
            if (n == b.length) {
                if (n == max) {
                    throw new IOException("manifest " + source + " is over 2 GB");
                }
                // Past the first buffer with every line within the limit, the file is a manifest
                // of many lines: take the size it said at once (one copy, not one per doubling).
                long grown = size >= 0 ? Math.min(max, size) : Math.min(max, (long) n * 2);
                b = Arrays.copyOf(b, (int) grown);
            }
            // Reads of at most MAX_LINE bytes: a line within one read is never over the limit,
            // so only the line running across reads needs a look (its end, and where the last starts).
            int r = in.read(b, n, Math.min(MAX_LINE, b.length - n));
            if (r < 0) {
                return n == b.length ? b : Arrays.copyOf(b, n);
            }
            int first = -1;
            for (int i = n; i < n + r; i++) {
                if (b[i] == '\n') {
                    first = i;
                    break;
                }
            }
            if (first >= 0) {
                if (first - lastNewline - 1 > MAX_LINE) {
                    return Arrays.copyOf(b, first); // that line, cut: its parse reports it
                }
                for (int i = n + r - 1; ; i--) {
                    if (b[i] == '\n') {
                        lastNewline = i;
                        break;
                    }
                }
            }
            n += r;
            if (n - lastNewline - 1 > MAX_LINE + 1) {
                return Arrays.copyOf(b, n);
            }
        }
    }

    /**
     * The bytes of a manifest up to the end of its header: its first line that is not blank,
     * read from {@code in} a few KB at a time (a listing of many revisions needs their headers,
     * not their rows). Stops once over {@link #MAX_LINE}; {@link #readHeader(byte[], String)}
     * then reports the line. Returns what it read when {@code in} ends first.
     */
    public static byte[] headerBytes(InputStream in) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(8192);
        byte[] chunk = new byte[8192];
        int lineStart = 0;
        boolean blank = true;
        while (out.size() <= MAX_LINE + 1 + lineStart) {
            int r = in.read(chunk);
            if (r < 0) {
                break;
            }
            for (int i = 0; i < r; i++) {
                byte b = chunk[i];
                if (b == '\n') {
                    if (!blank) {
                        out.write(chunk, 0, i + 1);
                        return out.toByteArray();
                    }
                    lineStart = out.size() + i + 1;
                } else if (b != ' ' && b != '\t' && b != '\r') {
                    blank = false;
                }
            }
            out.write(chunk, 0, r);
        }
        return out.toByteArray();
    }

    /**
     * Whether {@code start}, what {@link #headerBytes} returned, holds a whole line that is not
     * blank (the header line, ending it). When it does not, and was read from a range of the
     * manifest, the header (or the end of the manifest) lies beyond the range.
     */
    public static boolean holdsHeaderLine(byte[] start) {
        if (start.length == 0 || start[start.length - 1] != '\n') {
            return false;
        }
        for (byte b : start) {
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return true;
            }
        }
        return false;
    }

    /**
     * The header of a manifest whose first bytes ({@link #headerBytes}) are {@code start}; throws
     * {@link ManifestException} naming the line when there is none or it is not a header. The
     * rows are not read, so nothing is verified against a top hash.
     */
    public static ObjectNode readHeader(byte[] start, String source) throws IOException {
        ManifestReader r = new ManifestReader(source, false);
        LineSplitter lines = new LineSplitter(new java.io.ByteArrayInputStream(start));
        while (lines.next()) {
            long no = lines.lineNo();
            if (lines.tooLong()) {
                r.problem(no, null, "the header line is over 1 MB", true);
            }
            if (!isBlank(lines.buf(), lines.start(), lines.length())) {
                r.parseHeader(lines, no);
                return r.header;
            }
        }
        r.problem(1, null, "empty manifest: no header line", true);
        return null; // (problem threw)
    }

    private Manifest readAll(InputStream in) throws IOException {
        try {
            parse(in);
            return finish();
        } finally {
            if (topHash != null) {
                topHash.close();
            }
        }
    }

    /** Every problem in a manifest (errors and warnings), in line order. */
    public static List<Problem> validate(InputStream in, String source) throws IOException {
        ManifestReader r = new ManifestReader(source, true);
        r.parse(in);
        if (r.header != null) {
            r.checkStructure();
        }
        r.problems.sort((a, b) -> Long.compare(a.line(), b.line()));
        return r.problems;
    }

    /**
     * Sorts the rows and checks duplicates and file/folder clashes, with their lines. Returns
     * the permutation applied, null when the rows were read in walk order.
     */
    private int[] checkStructure() {
        int[] order = rows.seal();
        long[] lines = new long[rows.size()];
        for (int i = 0; i < lines.length; i++) {
            lines[i] = rowLines[order == null ? i : order[i]];
        }
        Manifest.Structure.check(rows, dirRows, problems, lines, dirLines);
        return order;
    }

    private Manifest finish() throws ManifestException {
        int[] order = checkStructure();
        if (!problems.isEmpty() && problems.stream().anyMatch(Problem::error)) {
            throw new ManifestException(source, problems.stream().filter(Problem::error).toList());
        }
        dirRows.sort(java.util.Comparator.comparing(d -> d.path("logical_key").asText(), LogicalKey.WALK_ORDER));
        // The streamed hash saw the rows in file order: it is the top hash only when that is walk order.
        String top = topHash != null && order == null ? topHash.finish() : null;
        return new Manifest(header, rows, dirRows, top);
    }

    private void problem(long line, String key, String message, boolean error) throws ManifestException {
        problems.add(new Problem(line, key, message, error));
        if (error && !collectAll) {
            throw new ManifestException(source, problems.stream().filter(Problem::error).toList());
        }
    }

    private void parse(InputStream in) throws IOException {
        LineSplitter lines = new LineSplitter(in);
        while (lines.next()) {
            long no = lines.lineNo();
            if (lines.tooLong()) {
                if (header == null) {
                    header = Json.object();
                    problem(no, null, "the header line is over 1 MB", true);
                } else if (lines.tooLongKey() != null) {
                    problem(no, lines.tooLongKey(), "line is over 1 MB", true);
                } else {
                    problem(no, null, "line is over 1 MB (the key is not named: logical_key is not the row's first field)", true);
                }
                continue;
            }
            if (isBlank(lines.buf(), lines.start(), lines.length())) {
                // quiltfs skips it; quilt3's reader (jsonlines) refuses the whole manifest
                problem(no, null, "blank line, which quilt3 cannot read", false);
                continue;
            }
            if (header == null) {
                if (no == 1 && startsWithBom(lines.buf(), lines.start(), lines.length())) {
                    problem(no, null, "the file starts with a UTF-8 byte order mark, which quilt3 cannot read", false);
                }
                parseHeader(lines, no);
                if (hashWhileReading) {
                    topHash = new TopHash.Stream(header, fileBytes >= HASH_IN_BACKGROUND_FROM);
                }
            } else {
                parseRow(lines.buf(), lines.start(), lines.length(), no);
            }
        }
        if (header == null && !hasError()) {
            problem(1, null, "empty manifest: no header line", true);
        }
    }

    private boolean hasError() {
        return problems.stream().anyMatch(Problem::error);
    }

    private static boolean startsWithBom(byte[] b, int off, int len) {
        return len >= 3 && b[off] == (byte) 0xEF && b[off + 1] == (byte) 0xBB && b[off + 2] == (byte) 0xBF;
    }

    private static boolean isBlank(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) {
            if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r') {
                return false;
            }
        }
        return true;
    }

    private void parseHeader(LineSplitter lines, long no) throws IOException {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(FACTORY.createParser(lines.buf(), lines.start(), lines.length()));
        } catch (JsonProcessingException e) {
            header = Json.object();
            problem(no, null, "malformed JSON in the header: " + Json.firstLine(e.getOriginalMessage()), true);
            return;
        }
        if (node == null || !node.isObject()) {
            header = Json.object();
            problem(no, null, "the header line is not a JSON object", true);
            return;
        }
        header = (ObjectNode) node;
        header.remove("top_hash");
        JsonNode v = header.get("version");
        if (v == null) {
            problem(no, null, "the header has no \"version\" (expected \"v0\")", false);
        } else if (!"v0".equals(v.asText())) {
            problem(no, null, "unknown manifest version " + v + " (expected \"v0\")", true);
        }
        if (header.has("logical_key")) {
            problem(no, header.get("logical_key").asText(), "the first line must be the header, not a row", true);
        }
    }

    private void parseRow(byte[] buf, int off, int len, long no) throws IOException {
        if (fast.parse(buf, off, len)) {
            lineOfRow(no);
            rows.add(buf, fast.keyOff, fast.keyLen, fast.physOff, fast.physLen, fast.size, fast.type, fast.digest);
            if (topHash != null) {
                topHash.fastRow(buf, fast.type, fast.valueOff, fast.valueLen, fast.keyOff, fast.keyLen, fast.size);
            }
            if (collectAll) {
                checkPhysicalKey(no, null, new String(buf, fast.physOff, fast.physLen, StandardCharsets.US_ASCII),
                        buf, fast.keyOff, fast.keyLen);
                if (!fast.hasMeta) {
                    noMeta(no, new String(buf, fast.keyOff, fast.keyLen, StandardCharsets.US_ASCII));
                }
            }
            return;
        }
        String key = null;
        String physicalKey = null;
        int physicalCount = -1;
        long size = -1;
        boolean hasSize = false;
        String hashType = null;
        String hashValue = null;
        boolean hasHash = false;
        JsonNode meta = null;
        boolean hasMeta = false;
        ObjectNode extras = null;
        try (JsonParser p = FACTORY.createParser(buf, off, len)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                problem(no, null, "row is not a JSON object", true);
                return;
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken v = p.nextToken();
                switch (field) {
                    case "logical_key" -> {
                        if (v != JsonToken.VALUE_STRING) {
                            problem(no, null, "logical_key is not a string", true);
                            p.skipChildren();
                        } else {
                            key = p.getText();
                        }
                    }
                    case "physical_keys" -> {
                        if (v == JsonToken.VALUE_NULL) {
                            break;
                        }
                        if (v != JsonToken.START_ARRAY) {
                            problem(no, key, "physical_keys is not a list", true);
                            p.skipChildren();
                            break;
                        }
                        physicalCount = 0;
                        while (p.nextToken() != JsonToken.END_ARRAY) {
                            if (p.currentToken() != JsonToken.VALUE_STRING) {
                                problem(no, key, "physical_keys holds a non-string", true);
                                p.skipChildren();
                                continue;
                            }
                            physicalCount++;
                            physicalKey = p.getText();
                        }
                    }
                    case "size" -> {
                        hasSize = true;
                        if (v != JsonToken.VALUE_NUMBER_INT) {
                            problem(no, key, "size is not an integer: " + p.getText(), true);
                            p.skipChildren();
                        } else if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                            problem(no, key, "size is out of range: " + p.getText(), true);
                        } else {
                            size = p.getLongValue();
                            if (size < 0) {
                                problem(no, key, "negative size " + size, true);
                            }
                        }
                    }
                    case "hash" -> {
                        hasHash = true;
                        if (v == JsonToken.VALUE_NULL) {
                            hasHash = false;
                            break;
                        }
                        if (v != JsonToken.START_OBJECT) {
                            problem(no, key, "hash is not an object", true);
                            p.skipChildren();
                            break;
                        }
                        while (p.nextToken() == JsonToken.FIELD_NAME) {
                            String hf = p.currentName();
                            JsonToken hv = p.nextToken();
                            if ((hf.equals("type") || hf.equals("value")) && hv == JsonToken.VALUE_STRING) {
                                if (hf.equals("type")) {
                                    hashType = p.getText();
                                } else {
                                    hashValue = p.getText();
                                }
                            } else {
                                problem(no, key, "unexpected field '" + hf + "' in hash", true);
                                p.skipChildren();
                            }
                        }
                    }
                    case "meta" -> {
                        hasMeta = true;
                        if (v == JsonToken.VALUE_NULL) {
                            break;
                        }
                        JsonNode m = p.readValueAsTree();
                        if (!m.isObject()) {
                            problem(no, key, "meta is not an object", true);
                        } else if (!m.isEmpty()) {
                            meta = m;
                        }
                    }
                    default -> {
                        if (extras == null) {
                            extras = Json.object();
                        }
                        extras.set(field, p.readValueAsTree());
                    }
                }
            }
            if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
                problem(no, key, "unexpected content after the row object", true);
                return;
            }
        } catch (JsonProcessingException e) {
            problem(no, key, "malformed JSON: " + Json.firstLine(e.getOriginalMessage()), true);
            return;
        }
        if (key == null) {
            problem(no, null, "row has no logical_key", true);
            return;
        }
        if (collectAll && !hasMeta) {
            noMeta(no, key);
        }
        if (key.endsWith("/") && physicalCount < 0 && !hasHash) {
            String pr = LogicalKey.problem(key, true);
            if (pr != null) {
                problem(no, key, pr, true);
                return;
            }
            ObjectNode d = Json.object();
            d.put("logical_key", key);
            d.set("meta", meta == null ? Json.object() : meta);
            if (extras != null) {
                extras.fields().forEachRemaining(f -> d.set(f.getKey(), f.getValue()));
            }
            if (dirRows.size() == dirLines.length) {
                dirLines = Arrays.copyOf(dirLines, dirLines.length * 2);
            }
            dirLines[dirRows.size()] = no;
            dirRows.add(d);
            return;
        }
        String pr = LogicalKey.problem(key);
        if (pr != null) {
            problem(no, key, pr, true);
            return;
        }
        if (physicalCount < 0) {
            problem(no, key, "row has no physical_keys", true);
            return;
        }
        if (physicalCount != 1) {
            problem(no, key, "row has " + physicalCount + " physical keys (exactly one is supported)", true);
            return;
        }
        if (!hasSize) {
            problem(no, key, "row has no size", true);
            return;
        }
        if (!hasHash || hashType == null || hashValue == null) {
            problem(no, key, "row has no hash (type and value)", true);
            return;
        }
        HashType type = HashType.fromWire(hashType);
        if (type == null) {
            problem(no, key, "unknown hash type '" + hashType + "' (known: SHA256, sha2-256-chunked, CRC64NVME)", true);
            return;
        }
        if (size < 0) {
            return; // reported above
        }
        Checksum sum = Checksum.of(type, hashValue);
        if (collectAll) {
            if (!sum.isWellFormed()) {
                // A warning: such a manifest reads and has a top hash (quilt3's own test manifests
                // hold "abcd"); only fetching that file's content must fail.
                problem(no, key, "hash value '" + hashValue + "' is not a valid " + type.wireName()
                        + " value, so no content can match it", false);
            }
            checkPhysicalKey(no, key, physicalKey, null, 0, 0);
        }
        lineOfRow(no);
        rows.add(key.getBytes(StandardCharsets.UTF_8), physicalKey.getBytes(StandardCharsets.UTF_8),
                size, sum, meta, extras);
        if (topHash != null) {
            topHash.row(rows, rows.size() - 1);
        }
    }

    /**
     * Validation only: the physical key must be one of the spec's URL forms (what
     * {@link PhysicalKey#parse} accepts). Reading does not check it: the top hash does not
     * depend on it, and fetching reports a bad one. The key is given as a string or, for a
     * row read without Jackson, as ASCII bytes (made into a string only when reporting).
     */
    private void checkPhysicalKey(long no, String key, String physicalKey, byte[] keyBuf, int keyOff, int keyLen)
            throws ManifestException {
        try {
            PhysicalKey.parse(physicalKey);
        } catch (IllegalArgumentException e) {
            problem(no, key != null ? key : new String(keyBuf, keyOff, keyLen, StandardCharsets.US_ASCII),
                    e.getMessage(), true);
        }
    }

    /**
     * A row without {@code meta}: quiltfs reads it as {@code {}}, quilt3's {@code Package._load}
     * fails with {@code KeyError: 'meta'} (file and folder rows alike; {@code "meta": null} it reads).
     */
    private void noMeta(long no, String key) throws ManifestException {
        problem(no, key, "row has no \"meta\", which quilt3 cannot read (quiltfs reads it as {})", false);
    }

    /** Records the line of the row about to be added. */
    private void lineOfRow(long no) {
        if (rows.size() == rowLines.length) {
            rowLines = Arrays.copyOf(rowLines, rowLines.length * 2);
        }
        rowLines[rows.size()] = no;
    }

    /** Splits a stream into lines without decoding; tracks line numbers and over-long lines. */
    static final class LineSplitter {
        private final InputStream in;
        private byte[] buf = new byte[1 << 20];
        private int pos;
        private int limit;
        private boolean eof;
        private long lineNo;
        private int start;
        private int length;
        private boolean tooLong;
        private String tooLongKey;

        LineSplitter(InputStream in) {
            this.in = in;
        }

        boolean next() throws IOException {
            tooLong = false;
            tooLongKey = null;
            while (true) {
                for (int i = pos; i < limit; i++) {
                    if (buf[i] == '\n') {
                        start = pos;
                        length = i - pos;
                        pos = i + 1;
                        lineNo++;
                        if (length > MAX_LINE) {
                            tooLong = true;
                            tooLongKey = leadingKey(buf, start, length);
                        }
                        return true;
                    }
                }
                if (eof) {
                    if (pos < limit) {
                        start = pos;
                        length = limit - pos;
                        pos = limit;
                        lineNo++;
                        tooLong = length > MAX_LINE;
                        if (tooLong) {
                            tooLongKey = leadingKey(buf, start, length);
                        }
                        return true;
                    }
                    return false;
                }
                if (limit - pos > MAX_LINE + 1) {
                    // Over-long line: skip to its end without holding it.
                    lineNo++;
                    tooLongKey = leadingKey(buf, pos, limit - pos);
                    skipRestOfLine();
                    tooLong = true;
                    start = pos;
                    length = 0;
                    return true;
                }
                fill();
            }
        }

        private void skipRestOfLine() throws IOException {
            pos = limit;
            while (true) {
                int r = in.read(buf, 0, buf.length);
                if (r < 0) {
                    eof = true;
                    pos = limit = 0;
                    return;
                }
                for (int i = 0; i < r; i++) {
                    if (buf[i] == '\n') {
                        pos = i + 1;
                        limit = r;
                        return;
                    }
                }
            }
        }

        private void fill() throws IOException {
            if (pos > 0) {
                System.arraycopy(buf, pos, buf, 0, limit - pos);
                limit -= pos;
                pos = 0;
            }
            if (limit == buf.length) {
                buf = Arrays.copyOf(buf, buf.length * 2);
            }
            int r = in.read(buf, limit, buf.length - limit);
            if (r < 0) {
                eof = true;
            } else {
                limit += r;
            }
        }

        byte[] buf() {
            return buf;
        }

        int start() {
            return start;
        }

        int length() {
            return length;
        }

        long lineNo() {
            return lineNo;
        }

        boolean tooLong() {
            return tooLong;
        }

        /** For an over-long line: its logical key, when {@link #leadingKey} finds it. */
        String tooLongKey() {
            return tooLongKey;
        }

        /**
         * The logical key of a row whose first field is {@code logical_key} (as quilt3 and
         * quiltfs write rows), read from the line's first bytes without parsing the rest; null
         * otherwise. A {@code logical_key} found further on could belong to a nested object.
         */
        static String leadingKey(byte[] b, int off, int len) {
            int end = off + Math.min(len, MAX_LINE);
            int p = skipSpace(b, off, end);
            if (p >= end || b[p] != '{') {
                return null;
            }
            p = skipSpace(b, p + 1, end);
            byte[] field = "\"logical_key\"".getBytes(StandardCharsets.US_ASCII);
            if (end - p < field.length || !Arrays.equals(b, p, p + field.length, field, 0, field.length)) {
                return null;
            }
            p = skipSpace(b, p + field.length, end);
            if (p >= end || b[p] != ':') {
                return null;
            }
            p = skipSpace(b, p + 1, end);
            try (JsonParser parser = FACTORY.createParser(b, p, end - p)) {
                return parser.nextToken() == JsonToken.VALUE_STRING ? parser.getText() : null;
            } catch (IOException e) {
                return null; // not a string, or longer than the bytes at hand
            }
        }

        private static int skipSpace(byte[] b, int p, int end) {
            while (p < end && (b[p] == ' ' || b[p] == '\t' || b[p] == '\r')) {
                p++;
            }
            return p;
        }
    }
}
