package io.quiltfs.store.workflow;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.state.AtomicFile;
import io.quiltfs.store.workflow.WorkingFiles.FileStat;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The status hash cache of one working folder: per logical key, the stat (size, mtime, inode)
 * of the file when it was last hashed, and that hash. A file whose stat is unchanged is not
 * re-hashed. One line per key ({@code size ino mtime type value key}), written atomically; an
 * unreadable cache is simply empty (it only costs re-hashing). Thread-safe.
 *
 * <p>The cache may also be marked clean for a head revision and install paths: then its keys
 * were exactly the working files and each matched that revision's row. A later scan finding the
 * very same keys and stats needs neither hashing nor the manifest. Any change clears the mark.
 */
public final class HashCache {
    private static final String MAGIC = "quiltfs-hashcache 1";

    /** One cached hash and the stat it was computed for. */
    record Item(FileStat stat, Checksum hash) {
    }

    private final Path file;
    private final Map<String, Item> items = new ConcurrentHashMap<>();
    private volatile boolean dirty;
    private volatile String clean;

    private HashCache(Path file) {
        this.file = file;
    }

    /** Reads the cache at {@code file} (empty when absent or unreadable). */
    public static HashCache load(Path file) {
        HashCache c = new HashCache(file);
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            if (!MAGIC.equals(r.readLine())) {
                return c;
            }
            // Key lines start with a digit (the size), so the optional mark line is unambiguous.
            String line = r.readLine();
            if (line != null && line.startsWith("clean ")) {
                c.clean = line.substring(6);
            } else if (line != null) {
                c.parse(line);
            }
            while ((line = r.readLine()) != null) {
                c.parse(line);
            }
        } catch (NoSuchFileException e) {
            return c;
        } catch (IOException | RuntimeException e) {
            c.items.clear();
            c.clean = null;
            c.dirty = true;
        }
        return c;
    }

    private void parse(String line) {
        String[] f = line.split(" ", 6);
        if (f.length != 6) {
            return;
        }
        FileStat st = new FileStat(Long.parseLong(f[0]), Long.parseLong(f[2]), Long.parseLong(f[1]));
        items.put(unescape(f[5]), new Item(st, Checksum.of(HashType.fromWire(f[3]), f[4])));
    }

    /** Records that the cache's keys are exactly the working files and all match {@code head}. */
    public void markClean(String head, PathFilter filter) {
        String mark = head + " " + filterId(filter);
        if (!mark.equals(clean)) {
            clean = mark;
            dirty = true;
        }
    }

    /**
     * Whether the working files are still clean for {@code head}: the cache was marked so, and
     * {@code now} holds exactly its keys with the same stats.
     */
    public boolean stillClean(String head, PathFilter filter, Map<String, FileStat> now) {
        return clean != null && clean.equals(head + " " + filterId(filter)) && covers(now);
    }

    /** Whether every key of {@code now} is cached for its current stat (and nothing else is). */
    boolean covers(Map<String, FileStat> now) {
        if (now.size() != items.size()) {
            return false;
        }
        for (Map.Entry<String, FileStat> f : now.entrySet()) {
            Item it = items.get(f.getKey());
            if (it == null || !it.stat.equals(f.getValue())) {
                return false;
            }
        }
        return true;
    }

    private static String filterId(PathFilter filter) {
        if (filter.all()) {
            return "*";
        }
        byte[] d = io.quiltfs.store.hash.Sha256.newDigest().digest(String.join("\0", filter.globs())
                .getBytes(StandardCharsets.UTF_8));
        return java.util.HexFormat.of().formatHex(d, 0, 16);
    }

    /** The cached hash of {@code key} of {@code type} when the file's stat is still {@code now}. */
    public Checksum lookup(String key, FileStat now, HashType type) {
        Item it = items.get(key);
        if (it == null || now == null || !it.stat.equals(now) || it.hash.type() != type) {
            return null;
        }
        return it.hash;
    }

    public void put(String key, FileStat stat, Checksum hash) {
        Item it = new Item(stat, hash);
        if (!it.equals(items.put(key, it))) {
            dirty = true;
            clean = null;
        }
    }

    /** Forgets every key not in {@code keep} (files that are gone). */
    public void retain(java.util.Set<String> keep) {
        if (items.keySet().retainAll(keep)) {
            dirty = true;
            clean = null;
        }
    }

    public void remove(String key) {
        if (items.remove(key) != null) {
            dirty = true;
            clean = null;
        }
    }

    /** Writes the cache when it changed. */
    public void save() throws IOException {
        if (!dirty) {
            return;
        }
        AtomicFile.write(file, out -> {
            BufferedWriter w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16);
            w.write(MAGIC);
            w.write('\n');
            String mark = clean;
            if (mark != null) {
                w.write("clean " + mark + "\n");
            }
            for (Map.Entry<String, Item> e : items.entrySet()) {
                Item it = e.getValue();
                w.write(Long.toString(it.stat.size()));
                w.write(' ');
                w.write(Long.toString(it.stat.inode()));
                w.write(' ');
                w.write(Long.toString(it.stat.mtimeNanos()));
                w.write(' ');
                w.write(it.hash.type().wireName());
                w.write(' ');
                w.write(it.hash.value());
                w.write(' ');
                w.write(escape(e.getKey()));
                w.write('\n');
            }
            w.flush();
        });
        dirty = false;
    }

    /** Keys may hold any character but NUL: backslash, newline and CR are escaped to keep one line per key. */
    static String escape(String key) {
        if (key.indexOf('\\') < 0 && key.indexOf('\n') < 0 && key.indexOf('\r') < 0) {
            return key;
        }
        return key.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r");
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                b.append(n == 'n' ? '\n' : n == 'r' ? '\r' : n);
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
