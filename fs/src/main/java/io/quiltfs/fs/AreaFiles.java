package io.quiltfs.fs;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.LogicalKey;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.workflow.WorkingFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A mount's files as the workflow verbs see them ({@link WorkingFiles}): the base revision's
 * rows with the working area's changes over them. A row nobody changed, or moved, is known by
 * its row's hash (stat: its size, mtime 0 and a negative inode), so status and commit read only
 * the files written through the mount; reading an unchanged row (to copy it) goes through the
 * object cache. A working copy's stat carries its ID and change stamp ({@link
 * WorkArea.Content#fileStat}). {@code view} maps a key to a live working copy ({@link
 * WorkArea.Content}), a frozen one ({@link Copy}), a moved {@link Entry}, or {@link #GONE}.
 */
final class AreaFiles implements WorkingFiles {
    static final Object GONE = new Object();

    private final PackageFs fs;
    private final Manifest base;
    private final Map<String, Object> view;
    private final boolean live;

    AreaFiles(PackageFs fs, Manifest base, Map<String, Object> view, boolean live) {
        this.fs = fs;
        this.base = base;
        this.view = view;
        this.live = live;
    }

    /** A frozen working copy (a commit's snapshot): its file never changes, so its stamp stays true. */
    record Copy(Path path, long id, long stamp) {
    }

    /** The stat of working copy {@code p} keyed by its ID and change stamp (not its inode and ctime); null when gone. */
    static FileStat stat(Path p, long id, long stamp) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
        return new FileStat(a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS), id, stamp);
    }

    @Override
    public Map<String, FileStat> scan() throws IOException {
        Map<String, FileStat> out = new HashMap<>(base.size() + view.size());
        for (int i = 0; i < base.size(); i++) {
            String k = base.key(i);
            if (!view.containsKey(k)) {
                out.put(k, new FileStat(base.sizeOf(i), 0, -(i + 1L), 0));
            }
        }
        for (Map.Entry<String, Object> e : view.entrySet()) {
            String k = e.getKey();
            FileStat st = statOf(k, e.getValue());
            if (st == null) {
                continue;
            }
            String problem = LogicalKey.problem(k);
            if (problem != null) {
                throw new IOException(problem + ": '" + k + "' in the mount of " + fs.packageName() + " (rename it)");
            }
            out.put(k, st);
        }
        return out;
    }

    private FileStat statOf(String k, Object v) throws IOException {
        if (v instanceof WorkArea.Content c) {
            return c.fileStat();
        }
        if (v instanceof Copy c) {
            return stat(c.path(), c.id(), c.stamp());
        }
        if (v instanceof Entry e) {
            return new FileStat(e.size(), 0, -1, 0);
        }
        return null;
    }

    @Override
    public FileStat stat(String key) throws IOException {
        Object v = view.get(key);
        if (v != null) {
            return statOf(key, v);
        }
        int i = base.find(key);
        return i < 0 ? null : new FileStat(base.sizeOf(i), 0, -(i + 1L), 0);
    }

    @Override
    public com.fasterxml.jackson.databind.JsonNode carriedMeta(String key) {
        Object v = view.get(key);
        return v instanceof Entry e && !e.meta().isEmpty() ? e.meta() : null;
    }

    @Override
    public Checksum knownHash(String key, FileStat stat) {
        if (stat.mtimeNanos() != 0 || stat.inode() >= 0) {
            return null;
        }
        Object v = view.get(key);
        if (v instanceof Entry e) {
            return e.size() == stat.size() ? e.hash() : null;
        }
        if (v != null) {
            return null;
        }
        int i = base.find(key);
        return i >= 0 && stat.inode() == -(i + 1L) ? base.entry(i).hash() : null;
    }

    @Override
    public Path path(String key) {
        Object v = view.get(key);
        try {
            if (v instanceof WorkArea.Content c) {
                return c.path();
            }
            if (v instanceof Copy c) {
                return c.path();
            }
            if (v instanceof Entry e) {
                return fs.cachedObject(e);
            }
            int i = base.find(key);
            if (i < 0 || v == GONE) {
                return fs.area().dir().resolve("files").resolve("absent");
            }
            return fs.cachedObject(base.entry(i));
        } catch (IOException e) {
            throw new UncheckedIOException("'" + key + "' of " + fs.packageName() + ": " + e.getMessage(), e);
        }
    }

    /** Reads an unchanged or moved row's object with the object pinned, so the cache's limit cannot delete it meanwhile. */
    @Override
    public <T> T read(String key, FileUse<T> use) throws IOException {
        Object v = view.get(key);
        Entry e = null;
        if (v instanceof Entry moved) {
            e = moved;
        } else if (v == null) {
            int i = base.find(key);
            e = i < 0 ? null : base.entry(i);
        }
        return e == null ? use.apply(path(key)) : fs.readCached(e, use);
    }

    @Override
    public FileStat place(String key, Path source) throws IOException {
        requireLive();
        FileStat st = fs.place(key, source);
        view.put(key, fs.area().node(key));
        return st;
    }

    @Override
    public void delete(String key) throws IOException {
        requireLive();
        fs.delete(key);
        view.put(key, GONE);
    }

    @Override
    public boolean openForWriting(String key) {
        return live && fs.openForWriting(key);
    }

    private void requireLive() {
        if (!live) {
            throw new IllegalStateException("a commit's snapshot cannot be changed");
        }
    }

    @Override
    public String describe() {
        return "the mount's working area " + fs.area().dir();
    }
}
