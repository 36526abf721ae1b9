package io.quiltfs.store.registry;

import io.quiltfs.store.state.AtomicFile;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a remote registry was confirmed to hold: for each key, the ETag it had, its version id and
 * the checksum of its content (proved by a HEAD or by our own upload). A push trusts an entry only
 * while a listing reports the same ETag for the key, so an object replaced since (by any client)
 * is proved again; losing the file only costs HEADs. Kept in the home
 * ({@link io.quiltfs.store.state.Home#registryRecord}), loaded lazily, saved atomically on
 * {@link #save()} merged with what other processes saved meanwhile. Thread-safe.
 */
final class ConfirmedObjects {
    /** One confirmed object; {@code etag} without quotes, {@code version} null when unversioned. */
    record Entry(String etag, String version, String checksum) {
    }

    private final Path file;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final Map<String, Entry> added = new ConcurrentHashMap<>();
    private volatile boolean loaded;

    /** {@code file} null: remember for this process only. */
    ConfirmedObjects(Path file) {
        this.file = file;
    }

    Entry get(String key) {
        load();
        return entries.get(key);
    }

    void put(String key, String etag, String version, String checksum) {
        if (etag == null) {
            return;
        }
        Entry e = new Entry(unquote(etag), version, checksum);
        entries.put(key, e);
        added.put(key, e);
    }

    static String unquote(String etag) {
        return etag == null ? null : etag.replace("\"", "");
    }

    private void load() {
        if (loaded) {
            return;
        }
        synchronized (this) {
            if (!loaded) {
                read().forEach(entries::putIfAbsent);
                loaded = true;
            }
        }
    }

    private Map<String, Entry> read() {
        Map<String, Entry> out = new ConcurrentHashMap<>();
        if (file == null) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String[] f = line.split("\t", -1);
                if (f.length == 4) {
                    out.put(PhysicalKey.decode(f[3]), new Entry(f[1], f[2].isEmpty() ? null : PhysicalKey.decode(f[2]), f[0]));
                }
            }
        } catch (NoSuchFileException e) {
            return out;
        } catch (IOException | RuntimeException e) {
            return out; // a damaged record is an empty one: it only saves requests
        }
        return out;
    }

    /** Writes what this process confirmed, merged into the file. */
    synchronized void save() throws IOException {
        if (file == null || added.isEmpty()) {
            return;
        }
        Map<String, Entry> all = read();
        all.putAll(added);
        AtomicFile.write(file, out -> {
            Writer w = new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8);
            for (Map.Entry<String, Entry> e : all.entrySet()) {
                Entry v = e.getValue();
                w.write(v.checksum() + "\t" + v.etag() + "\t" + (v.version() == null ? "" : PhysicalKey.encode(v.version()))
                        + "\t" + PhysicalKey.encode(e.getKey()) + "\n");
            }
            w.flush();
        });
        added.clear();
    }
}
