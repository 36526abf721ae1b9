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
 */
public final class HashCache {
    private static final String MAGIC = "quiltfs-hashcache 1";

    /** One cached hash and the stat it was computed for. */
    record Item(FileStat stat, Checksum hash) {
    }

    private final Path file;
    private final Map<String, Item> items = new ConcurrentHashMap<>();
    private volatile boolean dirty;

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
            String line;
            while ((line = r.readLine()) != null) {
                String[] f = line.split(" ", 6);
                if (f.length != 6) {
                    continue;
                }
                FileStat st = new FileStat(Long.parseLong(f[0]), Long.parseLong(f[2]), Long.parseLong(f[1]));
                c.items.put(unescape(f[5]), new Item(st, Checksum.of(HashType.fromWire(f[3]), f[4])));
            }
        } catch (NoSuchFileException e) {
            return c;
        } catch (IOException | RuntimeException e) {
            c.items.clear();
            c.dirty = true;
        }
        return c;
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
        }
    }

    /** Forgets every key not in {@code keep} (files that are gone). */
    public void retain(java.util.Set<String> keep) {
        if (items.keySet().retainAll(keep)) {
            dirty = true;
        }
    }

    public void remove(String key) {
        if (items.remove(key) != null) {
            dirty = true;
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
