package io.quiltfs.fs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.PackageName;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One package revision as a read-only tree of folders and files, answering the kernel's
 * questions by path ({@code "/"}, {@code "/a/b.csv"}). Folders are not stored: a path is a
 * file when a row has that logical key, and a folder when rows lie under it (the rows under a
 * folder are contiguous in walk order, see {@link Manifest#range}) or a directory row names it.
 *
 * <p>The name {@code .quiltfs} at the root is reserved for the mount's control files; rows
 * under it are not shown.
 */
public final class PackageFs implements java.io.Closeable {
    /** Reserved at the mount's root (control files of a later version). */
    public static final String RESERVED = ".quiltfs";
    static final int O_ACCMODE = 03;
    static final int O_RDONLY = 0;
    static final int O_TRUNC = 01000;
    static final String XATTR_PREFIX = "user.quilt.";

    private final Manifest manifest;
    private final PackageName pkg;
    private final String topHash;
    private final long mtime;
    private final ObjectStore objects;
    /** Folders named only by directory rows (and their ancestors), and their child folders. */
    private final Set<String> rowFolders;
    private final Map<String, Set<String>> rowFolderChildren;
    private final HandleTable<ObjectStore.View> handles = new HandleTable<>();
    private final long totalBytes;

    /** {@code mtime}: the revision's time in seconds since the epoch. */
    public PackageFs(Manifest manifest, PackageName pkg, String topHash, long mtime, ObjectStore objects) {
        this.manifest = manifest;
        this.pkg = pkg;
        this.topHash = topHash;
        this.mtime = mtime;
        this.objects = objects;
        Set<String> folders = new HashSet<>();
        Map<String, Set<String>> children = new HashMap<>();
        for (ObjectNode d : manifest.directoryRows()) {
            String k = d.path("logical_key").asText();
            String dir = k.substring(0, k.length() - 1);
            while (!dir.isEmpty() && folders.add(dir)) {
                int slash = dir.lastIndexOf('/');
                String parent = slash < 0 ? "" : dir.substring(0, slash);
                children.computeIfAbsent(parent, x -> new TreeSet<>()).add(dir.substring(slash + 1));
                dir = parent;
            }
        }
        this.rowFolders = folders;
        this.rowFolderChildren = children;
        this.totalBytes = manifest.totalBytes();
    }

    public Manifest manifest() {
        return manifest;
    }

    public String topHash() {
        return topHash;
    }

    public PackageName packageName() {
        return pkg;
    }

    /** Receives folder entries. */
    public interface DirSink {
        /** Returns false to stop (the kernel's buffer is full). */
        boolean add(String name, boolean directory);
    }

    /** The logical key of a FUSE path ("" for the root); ENOENT for the reserved name. */
    static String key(String path) throws FsException {
        String k = path;
        while (k.startsWith("/")) {
            k = k.substring(1);
        }
        while (k.endsWith("/")) {
            k = k.substring(0, k.length() - 1);
        }
        if (k.equals(RESERVED) || k.startsWith(RESERVED + "/")) {
            throw new FsException(Errno.ENOENT, "'" + RESERVED + "' is reserved");
        }
        return k;
    }

    public Attr getattr(String path) throws FsException {
        String k = key(path);
        if (k.isEmpty()) {
            return dirAttr();
        }
        int row = manifest.find(k);
        if (row >= 0) {
            return new Attr(false, manifest.sizeOf(row), 0444, mtime, row);
        }
        if (isFolder(k)) {
            return dirAttr();
        }
        throw new FsException(Errno.ENOENT, "no such file: " + k);
    }

    private Attr dirAttr() {
        return new Attr(true, 4096, 0555, mtime, -1);
    }

    private boolean isFolder(String k) {
        int[] r = manifest.range(k);
        return r[1] > r[0] || rowFolders.contains(k);
    }

    /** Lists a folder's entries ("." and ".." first). */
    public void readdir(String path, DirSink sink) throws FsException {
        Attr a = getattr(path);
        if (!a.directory()) {
            throw new FsException(Errno.ENOTDIR, "not a folder: " + path);
        }
        String dir = key(path);
        if (!sink.add(".", true) || !sink.add("..", true)) {
            return;
        }
        Set<String> extra = rowFolderChildren.getOrDefault(dir, Set.of());
        Set<String> listed = extra.isEmpty() ? null : new HashSet<>();
        int[] r = manifest.range(dir);
        int prefix = dir.isEmpty() ? 0 : dir.length() + 1;
        int i = r[0];
        while (i < r[1]) {
            String rest = manifest.key(i).substring(prefix);
            int slash = rest.indexOf('/');
            if (slash < 0) {
                i++;
                if (!sink.add(rest, false)) {
                    return;
                }
                continue;
            }
            String child = rest.substring(0, slash);
            // Every row under the child folder follows contiguously: skip them all at once.
            i = Math.max(i + 1, manifest.range(dir.isEmpty() ? child : dir + "/" + child)[1]);
            if (dir.isEmpty() && child.equals(RESERVED)) {
                continue;
            }
            if (listed != null) {
                listed.add(child);
            }
            if (!sink.add(child, true)) {
                return;
            }
        }
        for (String child : extra) {
            if (!listed.contains(child) && !(dir.isEmpty() && child.equals(RESERVED))) {
                if (!sink.add(child, true)) {
                    return;
                }
            }
        }
    }

    /** Opens a file for reading; returns the handle. Writing gives EROFS. */
    public long open(String path, int flags) throws IOException {
        Attr a = getattr(path);
        if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0) {
            throw new FsException(Errno.EROFS, "read-only mount");
        }
        if (a.directory()) {
            throw new FsException(Errno.EISDIR, "a folder: " + path);
        }
        return handles.add(objects.open(manifest.entry(a.row())));
    }

    /** Whether the kernel may keep this open file's pages (its object was verified when opened). */
    public boolean keepCache(long handle) throws FsException {
        return handles.get(handle).cachedAtOpen();
    }

    /** Reads into {@code dst} at {@code offset}; fewer bytes than asked only at end of file. */
    public int read(long handle, long offset, ByteBuffer dst) throws IOException {
        ObjectStore.View v = handles.get(handle);
        try {
            return v.read(offset, dst);
        } catch (FsException | ReportedException e) {
            throw e;
        } catch (IOException e) {
            throw new IOException("'" + v.entry().logicalKey() + "': " + e.getMessage(), e);
        }
    }

    public void release(long handle) throws IOException {
        ObjectStore.View v = handles.remove(handle);
        if (v != null) {
            v.close();
        }
    }

    public ObjectStore objects() {
        return objects;
    }

    /** Stops the fetches in flight (their partial bytes are dropped). */
    @Override
    public void close() {
        objects.close();
    }

    /** Number of open files. */
    public int openFiles() {
        return handles.size();
    }

    /** The names of the {@code user.quilt.*} attributes of a path. */
    public List<String> listxattr(String path) throws FsException {
        Attr a = getattr(path);
        List<String> out = new ArrayList<>();
        if (a.directory()) {
            if (key(path).isEmpty()) {
                out.add(XATTR_PREFIX + "package");
                out.add(XATTR_PREFIX + "top_hash");
                if (manifest.userMeta() != null) {
                    out.add(XATTR_PREFIX + "user_meta");
                }
            }
            return out;
        }
        Entry e = manifest.entry(a.row());
        out.add(XATTR_PREFIX + "hash");
        out.add(XATTR_PREFIX + "physical_key");
        if (e.userMeta() != null) {
            out.add(XATTR_PREFIX + "user_meta");
        }
        if (!e.meta().isEmpty()) {
            out.add(XATTR_PREFIX + "meta");
        }
        return out;
    }

    /**
     * An attribute's value; ENODATA when the path has no such {@code user.*} attribute, ENOTSUP
     * for other namespaces (security, system, trusted): tools such as {@code ls -l} then stop
     * asking for SELinux labels and ACLs on this file system instead of asking once per file.
     */
    public byte[] getxattr(String path, String name) throws FsException {
        Attr a = getattr(path);
        if (!name.startsWith("user.")) {
            throw new FsException(Errno.ENOTSUP, name + ": only user.* attributes exist here");
        }
        String v = null;
        if (a.directory()) {
            if (key(path).isEmpty()) {
                switch (name) {
                    case XATTR_PREFIX + "package" -> v = pkg.toString();
                    case XATTR_PREFIX + "top_hash" -> v = topHash;
                    case XATTR_PREFIX + "user_meta" -> v = json(manifest.userMeta());
                    default -> { }
                }
            }
        } else {
            Entry e = manifest.entry(a.row());
            switch (name) {
                case XATTR_PREFIX + "hash" -> v = e.hash().toString();
                case XATTR_PREFIX + "physical_key" -> v = e.physicalKey();
                case XATTR_PREFIX + "user_meta" -> v = json(e.userMeta());
                case XATTR_PREFIX + "meta" -> v = e.meta().isEmpty() ? null : json(e.meta());
                default -> { }
            }
        }
        if (v == null) {
            throw new FsException(Errno.ENODATA, "no attribute " + name + " on " + path);
        }
        return v.getBytes(StandardCharsets.UTF_8);
    }

    private static String json(JsonNode n) {
        if (n == null) {
            return null;
        }
        try {
            return Json.MAPPER.writeValueAsString(n);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return n.toString();
        }
    }

    /** What statfs reports: a read-only file system holding the package's bytes and files. */
    public record FsStats(long blockSize, long blocks, long files, long nameMax) { }

    public FsStats statfs() {
        long bs = 4096;
        return new FsStats(bs, (totalBytes + bs - 1) / bs, manifest.size(), 255);
    }
}
