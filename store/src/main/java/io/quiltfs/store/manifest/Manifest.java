package io.quiltfs.store.manifest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.quiltfs.store.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A package revision: the header (every key kept as read, {@code top_hash} dropped), the file
 * rows in walk order, and the directory rows. Immutable and safe to share between threads.
 *
 * <p>Because rows are in walk order, the rows under a folder are contiguous: {@link #range}
 * finds them by binary search, which is how the mount lists folders without building a tree.
 */
public final class Manifest {
    private final ObjectNode header;
    private final Rows rows;
    private final List<ObjectNode> dirRows;
    private volatile String topHash;

    Manifest(ObjectNode header, Rows rows, List<ObjectNode> dirRows) {
        this(header, rows, dirRows, null);
    }

    /** {@code topHash}: already computed over exactly these rows (by the reader), or null. */
    Manifest(ObjectNode header, Rows rows, List<ObjectNode> dirRows, String topHash) {
        this.header = header;
        this.rows = rows;
        this.dirRows = List.copyOf(dirRows);
        this.topHash = topHash;
    }

    /** A copy of the header object. */
    public ObjectNode header() {
        return header.deepCopy();
    }

    ObjectNode headerView() {
        return header;
    }

    /** The header's {@code message}, or null. */
    public String message() {
        return messageOf(header);
    }

    /** The {@code message} of a manifest header (as {@link #message}), or null. */
    public static String messageOf(JsonNode header) {
        JsonNode m = header.get("message");
        return m == null || m.isNull() ? null : m.isTextual() ? m.textValue() : m.toString();
    }

    /** The header's {@code user_meta}, or null. */
    public JsonNode userMeta() {
        JsonNode m = header.get("user_meta");
        return m == null || m.isNull() ? null : m.deepCopy();
    }

    /** Number of file rows. */
    public int size() {
        return rows.size();
    }

    public Entry entry(int i) {
        return rows.entry(i);
    }

    public String key(int i) {
        return rows.key(i);
    }

    public long sizeOf(int i) {
        return rows.sizeOf(i);
    }

    /** Sum of all file sizes. */
    public long totalBytes() {
        long t = 0;
        for (int i = 0; i < rows.size(); i++) {
            t += rows.sizeOf(i);
        }
        return t;
    }

    /** The rows as a list view (entries are made on access). */
    public List<Entry> entries() {
        return new AbstractList<>() {
            @Override
            public Entry get(int index) {
                return rows.entry(index);
            }

            @Override
            public int size() {
                return rows.size();
            }
        };
    }

    /** Directory rows ({@code logical_key} ending in '/'), as read. */
    public List<ObjectNode> directoryRows() {
        List<ObjectNode> out = new ArrayList<>(dirRows.size());
        for (ObjectNode d : dirRows) {
            out.add(d.deepCopy());
        }
        return out;
    }

    /** The directory row for folder {@code dir} (no trailing slash), or null. */
    public ObjectNode directoryRow(String dir) {
        for (ObjectNode d : dirRows) {
            if (d.path("logical_key").asText().equals(dir + "/")) {
                return d.deepCopy();
            }
        }
        return null;
    }

    /** Index of the row with this key, or {@code -(insertion point) - 1}. */
    public int find(String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        int lo = 0;
        int hi = rows.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = rows.compareKey(mid, k);
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -(lo + 1);
    }

    /** The row with this key, or null. */
    public Entry get(String key) {
        int i = find(key);
        return i >= 0 ? rows.entry(i) : null;
    }

    /**
     * The rows under folder {@code dir} ("" for the root): {@code [from, to)}. Empty when
     * nothing is under it.
     */
    public int[] range(String dir) {
        if (dir.isEmpty()) {
            return new int[] {0, rows.size()};
        }
        byte[] prefix = (dir + "/").getBytes(StandardCharsets.UTF_8);
        int from = find(dir + "/");
        from = from >= 0 ? from : -from - 1;
        int lo = from;
        int hi = rows.size();
        // First row at or after `from` whose key does not start with the prefix.
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (rows.keyStartsWith(mid, prefix)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return new int[] {from, lo};
    }

    /** Whether row i's key starts with {@code prefix} (UTF-8 bytes). */
    public boolean keyStartsWith(int i, byte[] prefix) {
        return rows.keyStartsWith(i, prefix);
    }

    /** The top hash (computed once). */
    public String topHash() {
        String h = topHash;
        if (h == null) {
            h = TopHash.compute(this);
            topHash = h;
        }
        return h;
    }

    Rows rows() {
        return rows;
    }

    List<ObjectNode> dirRowsView() {
        return dirRows;
    }

    /** Approximate heap retained by the rows (for the memory benchmark). */
    public long retainedRowBytes() {
        return rows.retainedBytes();
    }

    /** A builder that starts from this manifest's header, rows and directory rows. */
    public Builder toBuilder() {
        Builder b = new Builder(header.deepCopy());
        for (int i = 0; i < rows.size(); i++) {
            b.add(rows.entry(i));
        }
        for (ObjectNode d : dirRows) {
            b.addDirectoryRow(d.deepCopy());
        }
        return b;
    }

    public static Builder builder() {
        ObjectNode h = Json.object();
        h.put("version", "v0");
        h.putNull("message");
        return new Builder(h);
    }

    /** Assembles a manifest; {@link #build} validates keys and sorts into walk order. */
    public static final class Builder {
        private final ObjectNode header;
        private final List<Entry> entries = new ArrayList<>();
        private final List<ObjectNode> dirRows = new ArrayList<>();

        Builder(ObjectNode header) {
            this.header = header;
            header.remove("top_hash");
        }

        public Builder message(String message) {
            header.set("message", message == null ? Json.NODES.nullNode() : TextNode.valueOf(message));
            return this;
        }

        public Builder userMeta(JsonNode userMeta) {
            if (userMeta == null) {
                header.remove("user_meta");
            } else {
                header.set("user_meta", userMeta);
            }
            return this;
        }

        /** Sets any header field (kept in the top hash). */
        public Builder headerField(String name, JsonNode value) {
            header.set(name, value);
            return this;
        }

        /** Removes a header field (absent: nothing). */
        public Builder withoutHeaderField(String name) {
            header.remove(name);
            return this;
        }

        public Builder add(Entry e) {
            entries.add(e);
            return this;
        }

        public Builder addDirectoryRow(ObjectNode row) {
            dirRows.add(row);
            return this;
        }

        /** Removes every row (keeping the header and directory rows). */
        public Builder clearEntries() {
            entries.clear();
            return this;
        }

        public Manifest build() {
            Rows rows = new Rows();
            for (Entry e : entries) {
                LogicalKey.require(e.logicalKey());
                rows.add(e.logicalKey().getBytes(StandardCharsets.UTF_8),
                        e.physicalKey().getBytes(StandardCharsets.UTF_8),
                        e.size(), e.hash(), e.meta(), e.extras());
            }
            rows.seal();
            List<Problem> problems = new ArrayList<>();
            Structure.check(rows, dirRows, problems, null, null);
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(problems.get(0).message()
                        + (problems.get(0).key() == null ? "" : ": '" + problems.get(0).key() + "'"));
            }
            List<ObjectNode> dirs = new ArrayList<>(dirRows);
            dirs.sort(Comparator.comparing(d -> d.path("logical_key").asText(), LogicalKey.WALK_ORDER));
            return new Manifest(header, rows, dirs);
        }
    }

    /**
     * Checks shared by the reader and the builder: duplicate keys and folder rows, a file that is
     * also a folder.
     */
    static final class Structure {
        private Structure() {
        }

        /**
         * {@code lines} maps a row index to its line in the file, {@code dirLines} a directory
         * row's index in {@code dirRows} to its line (both null when built in memory).
         */
        static void check(Rows rows, List<ObjectNode> dirRows, List<Problem> problems, long[] lines,
                          long[] dirLines) {
            for (int i = 1; i < rows.size(); i++) {
                int c = rows.compareKeys(i - 1, i);
                long line = lines == null ? 0 : lines[i];
                if (c == 0) {
                    // named at its later line, with the earlier one, so that both can be found
                    problems.add(lines == null ? new Problem(line, rows.key(i), "duplicate logical key", true)
                            : new Problem(Math.max(line, lines[i - 1]), rows.key(i), "duplicate logical key (also on line "
                                    + Math.min(line, lines[i - 1]) + ")", true));
                } else {
                    if (rows.keyIsUnder(i, i - 1)) {
                        problems.add(new Problem(line, rows.key(i), "logical key is inside '"
                                + rows.key(i - 1) + "', which is a file", true));
                    }
                }
            }
            if (!dirRows.isEmpty()) {
                for (int di = 0; di < dirRows.size(); di++) {
                    ObjectNode d = dirRows.get(di);
                    long dline = dirLines == null ? 0 : dirLines[di];
                    String dk = d.path("logical_key").asText();
                    String dir = dk.substring(0, dk.length() - 1);
                    int lo = 0;
                    int hi = rows.size() - 1;
                    byte[] k = dir.getBytes(StandardCharsets.UTF_8);
                    while (lo <= hi) {
                        int mid = (lo + hi) >>> 1;
                        int c = rows.compareKey(mid, k);
                        if (c == 0) {
                            problems.add(new Problem(dline, dk, "folder row names a file", true));
                            break;
                        } else if (c < 0) {
                            lo = mid + 1;
                        } else {
                            hi = mid - 1;
                        }
                    }
                }
                // Duplicates: which row's metadata would win is undefined. Each repeat is reported
                // on its own line (the first occurrence in the file stays unreported).
                Integer[] order = new Integer[dirRows.size()];
                for (int i = 0; i < order.length; i++) {
                    order[i] = i;
                }
                Arrays.sort(order, Comparator.comparing((Integer i) -> dirRows.get(i).path("logical_key").asText())
                        .thenComparingLong(i -> dirLines == null ? i : dirLines[i]));
                for (int i = 1; i < order.length; i++) {
                    String dk = dirRows.get(order[i]).path("logical_key").asText();
                    if (dk.equals(dirRows.get(order[i - 1]).path("logical_key").asText())) {
                        problems.add(new Problem(dirLines == null ? 0 : dirLines[order[i]], dk,
                                "duplicate folder row", true));
                    }
                }
            }
        }
    }
}
