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
import java.util.TreeMap;
import java.util.TreeSet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One package revision as a tree of folders and files, answering the kernel's questions by
 * path ({@code "/"}, {@code "/a/b.csv"}). Folders are not stored: a path is a file when a row
 * has that logical key, and a folder when rows lie under it (the rows under a folder are
 * contiguous in walk order, see {@link Manifest#range}) or a directory row names it.
 *
 * <p>With a {@link WorkArea} the tree is editable: the area's nodes override the revision
 * (the base) key by key, and every change goes to the area first. A commit takes a {@link
 * Snapshot} of the nodes and, once recorded, {@link #rebase}s the tree on the new revision.
 * Without one every change is EROFS.
 *
 * <p>The name {@code .quiltfs} at the root is reserved for the mount's control files (an
 * editable mount shows them, see {@link Control}); rows under it are not shown.
 */
public final class PackageFs implements java.io.Closeable {
    /** Reserved at the mount's root (control files of a later version). */
    public static final String RESERVED = ".quiltfs";
    static final int O_ACCMODE = 03;
    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_TRUNC = 01000;
    static final int O_EXCL = 0200;
    static final String XATTR_PREFIX = "user.quilt.";
    /** The longest name (bytes of UTF-8) the mount takes, as its statfs says. */
    static final int NAME_MAX = 255;
    /** The latest modification time a working copy can hold (nanoseconds since 1970 in a long). */
    static final java.time.Instant LATEST_TIME = java.time.Instant.ofEpochSecond(0, Long.MAX_VALUE);
    static final java.time.Instant EARLIEST_TIME = java.time.Instant.ofEpochSecond(0, Long.MIN_VALUE);
    /** What a name's bytes that are not UTF-8 decode to. */
    private static final char REPLACEMENT = '\uFFFD';
    private static final Object DIR = new Object();

    /** The revision shown under the working area's changes. */
    private record Base(Manifest manifest, String topHash, long mtime, Set<String> rowFolders,
                        Map<String, Set<String>> rowFolderChildren, long totalBytes) {
        static Base of(Manifest manifest, String topHash, long mtime) {
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
            return new Base(manifest, topHash, mtime, folders, children, manifest.totalBytes());
        }

        boolean isFolder(String k) {
            int[] r = manifest.range(k);
            return r[1] > r[0] || rowFolders.contains(k);
        }
    }

    private final PackageName pkg;
    private final ObjectStore objects;
    private volatile Base base;
    private final WorkArea area;
    private volatile Control control;
    /** Serializes changes of the tree; lookups of an editable tree take it shared. */
    private final ReentrantReadWriteLock tree = new ReentrantReadWriteLock();
    private final HandleTable<Object> handles = new HandleTable<>();
    /**
     * Descriptors opened for reading on an unchanged file that has since been given a working
     * copy (written through another descriptor): they read the copy, as on any file system where
     * both name one file. Changed under the tree's write lock; each copy is held (acquired) for
     * as long as its descriptor is open.
     */
    private final Map<ObjectStore.View, WorkArea.Content> redirected = new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * Descriptors open for reading on an unchanged file (not redirected): the key their file has
     * now. It follows renames and is dropped when the file is removed or replaced, so that a
     * working copy made later for a key finds the descriptors of that very file, never those of
     * another file that once had the key or the same bytes. Changed under the tree's write lock.
     */
    private final Map<ObjectStore.View, Reader> readers = new java.util.concurrent.ConcurrentHashMap<>();
    /** Told when the content under an open descriptor changed outside the kernel (a pull). */
    private volatile Kernel kernel;
    /** A pull changed files under their names: the kernel may no longer keep pages across opens. */
    private volatile boolean contentChanged;
    /** Nodes a pull placed (taken in by the rebase that follows it); null outside a pull. */
    private volatile Set<WorkArea.Node> placed;
    /**
     * A cache drop was queued since the last {@link #endPull}: only then does it wait for the
     * queue (every mount control command ends with it; one drop stuck in the kernel must not
     * hold the answers of commands that queued none).
     */
    private final java.util.concurrent.atomic.AtomicBoolean dropsQueued =
            new java.util.concurrent.atomic.AtomicBoolean();
    /** The name libfuse moves a file to when it is removed while open: .fuse_hidden and 16 hex digits. */
    private static final java.util.regex.Pattern REMOVED_OPEN = java.util.regex.Pattern.compile(
            "(.*/)?\\.fuse_hidden[0-9a-f]{16}");
    /**
     * Files removed (or replaced by a rename) while open, by the name libfuse gave them for their
     * open descriptors: the working copy or the revision's row. Not keys of the tree: never
     * listed, journaled or committed, and no obstacle to removing their folder; libfuse asks for
     * their attributes (fstat) by that name and removes it at the last close. Changed under the
     * tree's write lock.
     */
    private final Map<String, Object> removedOpen = new java.util.concurrent.ConcurrentHashMap<>();

    /** {@code mtime}: the revision's time in seconds since the epoch. A read-only tree. */
    public PackageFs(Manifest manifest, PackageName pkg, String topHash, long mtime, ObjectStore objects) {
        this(manifest, pkg, topHash, mtime, objects, null);
    }

    /** An editable tree when {@code area} is not null. */
    public PackageFs(Manifest manifest, PackageName pkg, String topHash, long mtime, ObjectStore objects,
                     WorkArea area) {
        this.pkg = pkg;
        this.objects = objects;
        this.area = area;
        this.base = Base.of(manifest, topHash, mtime);
    }

    public Manifest manifest() {
        return base.manifest();
    }

    public String topHash() {
        return base.topHash();
    }

    public PackageName packageName() {
        return pkg;
    }

    /** Whether writes are accepted (a working area is attached). */
    public boolean editable() {
        return area != null;
    }

    public WorkArea area() {
        return area;
    }

    /** What the control files run: {@code .quiltfs/status} and {@code .quiltfs/ctl}. */
    public interface Control {
        /** The status as JSON. */
        String status();

        /** Runs one command line ({@code commit -m "msg"}, {@code push}, ...); its output, ending with {@code exit N}. */
        String run(String line);
    }

    public void control(Control c) {
        this.control = c;
    }

    /** An open unchanged file's descriptor and the key its file has now. */
    private record Reader(long handle, String key) { }

    /**
     * What a key showed when a working copy was made for it: a row of {@code base} ({@code
     * moved} null) or a moved row.
     */
    private record Origin(Base base, String key, WorkArea.Moved moved) { }

    /** The kernel side of a mount: drops what it cached for open descriptors' files. */
    public interface Kernel {
        /** What the kernel knows the file open as {@code handle} by (0: nothing known), asked while it is open. */
        long node(long handle);

        /**
         * These files changed outside the kernel: drop their cached pages and attributes. Called
         * with no tree lock held (a pull's thread may hold the package's); queues the drops and
         * returns at once: they are sent in order by a thread that holds no lock.
         */
        void invalidate(List<Long> nodes);

        /**
         * These names (logical keys) appeared or went outside the kernel: drop what it cached of
         * them, present or absent. Queued, like {@link #invalidate}; returns whether any was (the
         * kernel caches names only in folders it looked in).
         */
        default boolean invalidateNames(List<String> keys) {
            return false;
        }

        /** Waits, bounded, for the drops queued so far to be sent (before a pull answers). */
        default void awaitInvalidations() {
        }
    }

    public void kernel(Kernel k) {
        this.kernel = k;
    }

    /** Receives folder entries. */
    public interface DirSink {
        /** Returns false to stop (the kernel's buffer is full). */
        boolean add(String name, boolean directory);
    }

    private static String strip(String path) {
        String k = path;
        while (k.startsWith("/")) {
            k = k.substring(1);
        }
        while (k.endsWith("/")) {
            k = k.substring(0, k.length() - 1);
        }
        return k;
    }

    private static boolean reserved(String k) {
        return k.equals(RESERVED) || k.startsWith(RESERVED + "/");
    }

    /** The logical key of a FUSE path ("" for the root); ENOENT for the reserved name. */
    static String key(String path) throws FsException {
        String k = strip(path);
        if (reserved(k)) {
            throw new FsException(Errno.ENOENT, "'" + RESERVED + "' is reserved");
        }
        return k;
    }

    /** Whether {@code path} names the control folder or one of its files (editable trees only). */
    private boolean isControl(String path) {
        return area != null && reserved(strip(path));
    }

    /** What a key is now: a Content or Moved node, an Integer base row, DIR, or null (absent). */
    private Object resolve(Base b, String k) {
        if (k.isEmpty()) {
            return DIR;
        }
        if (area != null) {
            WorkArea.Node n = area.node(k);
            if (n instanceof WorkArea.Gone) {
                return null;
            }
            if (n instanceof WorkArea.Folder) {
                return DIR;
            }
            if (n != null) {
                return n;
            }
        }
        int row = b.manifest().find(k);
        if (row >= 0) {
            return row;
        }
        return b.isFolder(k) ? DIR : null;
    }

    private void readLock() {
        if (area != null) {
            tree.readLock().lock();
        }
    }

    private void readUnlock() {
        if (area != null) {
            tree.readLock().unlock();
        }
    }

    public Attr getattr(String path) throws IOException {
        if (isControl(path)) {
            return controlAttr(strip(path));
        }
        String k = key(path);
        readLock();
        try {
            Base b = base;
            Object r = resolve(b, k);
            if (r == null) {
                r = removedOpen.get(k);
                if (r instanceof Entry e) {
                    return new Attr(false, e.size(), 0644, b.mtime(), -1);
                }
            }
            if (r == null) {
                if (nameTooLong(k)) {
                    if (k.indexOf(REPLACEMENT) >= 0) {
                        // Bytes that are not UTF-8, decoded as U+FFFD (3 bytes each): the name may
                        // not be long at all; it is one a file here cannot have.
                        throw new FsException(Errno.EINVAL, "a name that is not valid UTF-8: '" + k + "'");
                    }
                    // As a local disk answers: a name no file here can have (statfs says 255 bytes).
                    throw new FsException(Errno.ENAMETOOLONG, "a name over " + NAME_MAX + " bytes in '" + k + "'");
                }
                throw new FsException(Errno.ENOENT, "no such file: " + k);
            }
            return attr(b, r);
        } finally {
            readUnlock();
        }
    }

    /** Whether a name of {@code k} is over {@link #NAME_MAX} bytes. */
    static boolean nameTooLong(String k) {
        if (k.length() <= NAME_MAX / 3) {
            return false;
        }
        for (String name : k.split("/")) {
            if (name.length() > NAME_MAX / 3 && name.getBytes(StandardCharsets.UTF_8).length > NAME_MAX) {
                return true;
            }
        }
        return false;
    }

    private Attr attr(Base b, Object r) throws IOException {
        if (r == DIR) {
            return dirAttr();
        }
        if (r instanceof Integer row) {
            return new Attr(false, b.manifest().sizeOf(row), area == null ? 0444 : 0644, b.mtime(), row);
        }
        if (r instanceof WorkArea.Moved m) {
            return new Attr(false, m.entry().size(), 0644, b.mtime(), -1);
        }
        java.nio.file.attribute.PosixFileAttributes a = ((WorkArea.Content) r).attributes();
        boolean x = a.permissions().contains(java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE);
        java.time.Instant t = a.lastModifiedTime().toInstant();
        return new Attr(false, a.size(), x ? 0755 : 0644, t.getEpochSecond(), -1, t.getNano());
    }

    /**
     * The attributes of an open file by its handle, whatever its name is now: what libfuse asks
     * when the file has no path any more (removed while open, then its folder too) and the kernel
     * checks the size before a read that reaches the end.
     */
    public Attr fgetattr(long handle) throws IOException {
        Object h = handles.get(handle);
        if (h instanceof WorkingHandle w) {
            return attr(base, w.content());
        }
        if (h instanceof ObjectStore.View v) {
            WorkArea.Content copy = redirected.get(v);
            return copy != null ? attr(base, copy)
                    : new Attr(false, v.entry().size(), area == null ? 0444 : 0644, base.mtime(), -1);
        }
        return controlAttr(RESERVED + (((ControlFile) h).ctl ? "/ctl" : "/status"));
    }

    private Attr dirAttr() {
        return new Attr(true, 4096, area == null ? 0555 : 0755, base.mtime(), -1);
    }

    private Attr controlAttr(String k) throws FsException {
        return switch (k) {
            case RESERVED -> new Attr(true, 4096, 0700, base.mtime(), -1);
            case RESERVED + "/status" -> new Attr(false, 0, 0400, base.mtime(), -1);
            case RESERVED + "/ctl" -> new Attr(false, 0, 0600, base.mtime(), -1);
            default -> throw new FsException(Errno.ENOENT, "no such control file: " + k);
        };
    }

    /** Lists a folder's entries ("." and ".." first). */
    public void readdir(String path, DirSink sink) throws IOException {
        if (isControl(path)) {
            if (!strip(path).equals(RESERVED)) {
                throw new FsException(Errno.ENOTDIR, "not a folder: " + path);
            }
            for (String n : List.of(".", "..", "ctl", "status")) {
                if (!sink.add(n, n.startsWith("."))) {
                    return;
                }
            }
            return;
        }
        String dir = key(path);
        readLock();
        try {
            Base b = base;
            Object r = resolve(b, dir);
            if (r == null) {
                throw new FsException(Errno.ENOENT, "no such folder: " + dir);
            }
            if (r != DIR) {
                throw new FsException(Errno.ENOTDIR, "not a folder: " + path);
            }
            if (!sink.add(".", true) || !sink.add("..", true)) {
                return;
            }
            // The control folder answers by name but is not listed: `find`, `cp -r`, `rsync` and
            // `diff -r` of the mount see the package's files only.
            if (area == null || area.isEmpty()) {
                baseChildren(b, dir, sink);
                return;
            }
            for (Map.Entry<String, Boolean> e : children(b, dir).entrySet()) {
                if (!sink.add(e.getKey(), e.getValue())) {
                    return;
                }
            }
        } finally {
            readUnlock();
        }
    }

    /** The base revision's entries of a folder (without "." and ".."). */
    private static void baseChildren(Base b, String dir, DirSink sink) {
        Manifest manifest = b.manifest();
        Set<String> extra = b.rowFolderChildren().getOrDefault(dir, Set.of());
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

    /** A folder's visible entries, name to is-a-folder, the working area's changes applied. */
    private Map<String, Boolean> children(Base b, String dir) {
        Map<String, Boolean> names = new TreeMap<>();
        baseChildren(b, dir, (n, d) -> {
            names.put(n, d);
            return true;
        });
        String prefix = dir.isEmpty() ? "" : dir + "/";
        for (java.util.Iterator<Map.Entry<String, Boolean>> it = names.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Boolean> e = it.next();
            WorkArea.Node n = area.node(prefix + e.getKey());
            if (n instanceof WorkArea.Gone) {
                it.remove();
            } else if (n != null) {
                e.setValue(n instanceof WorkArea.Folder);
            }
        }
        java.util.NavigableMap<String, WorkArea.Node> sub = area.under(dir);
        String next = sub.isEmpty() ? null : sub.firstKey();
        while (next != null) {
            String rest = next.substring(prefix.length());
            int slash = rest.indexOf('/');
            if (slash < 0) {
                WorkArea.Node n = sub.get(next);
                if (n instanceof WorkArea.Gone) {
                    names.remove(rest);
                } else if (n != null && !(dir.isEmpty() && rest.equals(RESERVED))) {
                    names.put(rest, n instanceof WorkArea.Folder);
                }
                next = sub.higherKey(next);
            } else {
                // A deeper key: its folder shows through its own node or the base; skip its subtree.
                next = sub.ceilingKey(prefix + rest.substring(0, slash) + "0");
            }
        }
        return names;
    }

    /** An open file: an object of the revision, a working copy, or a control file. */
    private record WorkingHandle(WorkArea.Content content, boolean writable) { }

    /** Opens a file; writing needs an editable tree (EROFS otherwise). Returns the handle. */
    public long open(String path, int flags) throws IOException {
        if (isControl(path)) {
            return openControl(strip(path), flags);
        }
        String k = key(path);
        boolean write = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0;
        if (write && area == null) {
            throw new FsException(Errno.EROFS, "read-only mount");
        }
        if (write) {
            boolean writes = (flags & O_ACCMODE) != O_RDONLY;
            long[] h = new long[1];
            writable(k, (flags & O_TRUNC) != 0, -1, c -> h[0] = hold(c, writes));
            return h[0];
        }
        for (int attempt = 0; attempt < 5; attempt++) {
            Base b;
            Object r;
            Entry e;
            readLock();
            try {
                b = base;
                r = resolve(b, k);
                if (r == null) {
                    throw new FsException(Errno.ENOENT, "no such file: " + k);
                }
                if (r == DIR) {
                    throw new FsException(Errno.EISDIR, "a folder: " + path);
                }
                if (r instanceof WorkArea.Content c) {
                    c.acquire();
                    return handles.add(new WorkingHandle(c, false));
                }
                e = r instanceof WorkArea.Moved m ? m.entry() : b.manifest().entry((Integer) r);
            } finally {
                readUnlock();
            }
            // Not under the tree's lock: opening may re-verify the cached object or wait for its
            // fetch, and a writer waiting for the lock meanwhile would hold up every lookup.
            ObjectStore.View v = objects.open(e);
            if (area == null) {
                return handles.add(v); // a read-only tree never changes
            }
            boolean kept = false;
            readLock();
            try {
                if (base == b && sameThing(resolve(b, k), r)) {
                    // Under the lock: a working copy made for this file from now on finds the handle.
                    kept = true;
                    long h = handles.add(v);
                    readers.put(v, new Reader(h, k));
                    return h;
                }
            } finally {
                readUnlock();
                if (!kept) {
                    v.close(); // changed meanwhile (written, moved, removed): look again
                }
            }
        }
        throw new FsException(Errno.EIO, "'" + k + "' keeps changing while it is being opened");
    }

    /**
     * {@code c} now holds the file at {@code k} (under the tree's write lock): descriptors open
     * for reading on that unchanged file read the copy from now on. Returns their handles.
     */
    private List<Long> redirectReaders(String k, WorkArea.Content c) throws IOException {
        List<Long> moved = new ArrayList<>();
        if (readers.isEmpty()) {
            return moved;
        }
        for (java.util.Iterator<Map.Entry<ObjectStore.View, Reader>> it = readers.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<ObjectStore.View, Reader> e = it.next();
            if (e.getValue().key().equals(k)) {
                c.acquire();
                redirected.put(e.getKey(), c);
                moved.add(e.getValue().handle());
                it.remove();
            }
        }
        return moved;
    }

    /** The file at {@code k} was removed or replaced (under the tree's write lock): its readers keep their bytes. */
    private void detachReaders(String k) {
        if (!readers.isEmpty()) {
            readers.values().removeIf(r -> r.key().equals(k));
        }
    }

    /** The file at {@code from} now is at {@code to} (under the tree's write lock). */
    private void moveReaders(String from, String to) {
        if (readers.isEmpty()) {
            return;
        }
        for (Map.Entry<ObjectStore.View, Reader> e : readers.entrySet()) {
            if (e.getValue().key().equals(from)) {
                e.setValue(new Reader(e.getValue().handle(), to));
            }
        }
    }

    /** What is done to a working copy while it certainly is its key's file (under the tree lock). */
    private interface WithCopy {
        void accept(WorkArea.Content c) throws IOException;
    }

    /** A new descriptor of {@code c} (called under the tree lock, while {@code c} is its key's file). */
    private long hold(WorkArea.Content c, boolean writes) throws IOException {
        c.acquire();
        // Under the lock: a close of another descriptor looking whether the copy may go finds this one.
        return handles.add(new WorkingHandle(c, writes));
    }

    /**
     * The working copy of {@code k}, made now if the key is still the revision's: filled with
     * the object's bytes (fetched outside the tree lock), or empty when {@code empty}.
     * {@code truncateTo} >= 0 truncates it (under the tree lock, so no reader sees the old size).
     * {@code then} runs under the tree's lock while the copy is the key's file: a close of
     * another descriptor cannot take the copy away (back to its row) before it (an open's
     * descriptor is counted, a change is seen).
     */
    private WorkArea.Content writable(String k, boolean empty, long truncateTo, WithCopy then) throws IOException {
        for (int attempt = 0; attempt < 5; attempt++) {
            Object r;
            Base b;
            readLock();
            try {
                b = base;
                r = resolve(b, k);
                if (r == null) {
                    throw new FsException(Errno.ENOENT, "no such file: " + k);
                }
                if (r == DIR) {
                    throw new FsException(Errno.EISDIR, "a folder: " + k);
                }
                if (r instanceof WorkArea.Content c) {
                    if (empty) {
                        c.truncate(0);
                    } else if (truncateTo >= 0) {
                        c.truncate(truncateTo);
                    }
                    if (then != null) {
                        then.accept(c);
                    }
                    return c;
                }
            } finally {
                readUnlock();
            }
            Entry e = r instanceof WorkArea.Moved m ? m.entry() : b.manifest().entry((Integer) r);
            Path copy = null;
            if (!empty && truncateTo != 0) {
                copy = copyObject(e);
            }
            tree.writeLock().lock();
            try {
                if (base != b || !sameThing(resolve(base, k), r)) {
                    continue; // changed meanwhile: look again
                }
                WorkArea.Content c = copy == null ? area.create(k) : area.adopt(k, copy);
                copy = null;
                c.origin = new Origin(b, k, r instanceof WorkArea.Moved m ? m : null);
                redirectReaders(k, c);
                if (truncateTo > 0) {
                    c.truncate(truncateTo);
                }
                if (then != null) {
                    then.accept(c);
                }
                return c;
            } finally {
                tree.writeLock().unlock();
                if (copy != null) {
                    Files.deleteIfExists(copy);
                }
            }
        }
        throw new FsException(Errno.EIO, "'" + k + "' keeps changing while it is being copied for writing");
    }

    private static boolean sameThing(Object a, Object b) {
        return a == b || (a instanceof Integer x && x.equals(b));
    }

    /** The object's bytes in a new file of the working area (fetched when not cached). */
    private Path copyObject(Entry e) throws IOException {
        Path tmp = area.newFile();
        try (ObjectStore.View v = objects.open(e);
             java.nio.channels.FileChannel out = java.nio.channels.FileChannel.open(tmp,
                     java.nio.file.StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            long off = 0;
            while (off < e.size()) {
                buf.clear();
                int n = v.read(off, buf);
                if (n <= 0) {
                    break;
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    out.write(buf, off + (n - buf.remaining()));
                }
                off += n;
            }
        } catch (IOException | RuntimeException ex) {
            Files.deleteIfExists(tmp);
            throw ex;
        }
        return tmp;
    }

    /** Whether the kernel may keep this open file's pages (an unchanged object, verified when opened). */
    public boolean keepCache(long handle) throws FsException {
        return handles.get(handle) instanceof ObjectStore.View v && v.cachedAtOpen() && !contentChanged;
    }

    /**
     * The verified cache file an open, unchanged object reads from (what {@link #keepCache}
     * allows the kernel to keep), or null.
     */
    public Path cachedFile(long handle) throws FsException {
        return keepCache(handle) ? ((ObjectStore.View) handles.get(handle)).cachedFile() : null;
    }

    /** Whether reads of this handle bypass the kernel's page cache (control files: their size is unknown). */
    public boolean directIo(long handle) throws FsException {
        return handles.get(handle) instanceof ControlFile;
    }

    /** Reads into {@code dst} at {@code offset}; fewer bytes than asked only at end of file. */
    public int read(long handle, long offset, ByteBuffer dst) throws IOException {
        Object h = handles.get(handle);
        if (h instanceof WorkingHandle w) {
            return w.content().read(offset, dst);
        }
        if (h instanceof ControlFile c) {
            return c.read(offset, dst);
        }
        ObjectStore.View v = (ObjectStore.View) h;
        WorkArea.Content copy = redirected.get(v);
        if (copy != null) {
            return copy.read(offset, dst);
        }
        try {
            return v.read(offset, dst);
        } catch (FsException | ReportedException e) {
            throw e;
        } catch (IOException e) {
            throw new IOException("'" + v.entry().logicalKey() + "': " + e.getMessage(), e);
        }
    }

    /** Writes {@code src} at {@code offset}; returns the bytes written. */
    public int write(long handle, long offset, ByteBuffer src) throws IOException {
        Object h = handles.get(handle);
        if (h instanceof WorkingHandle w && w.writable()) {
            return w.content().write(offset, src);
        }
        if (h instanceof ControlFile c && c.ctl) {
            return c.write(offset, src);
        }
        throw new FsException(Errno.EBADF, "not open for writing");
    }

    public void ftruncate(long handle, long size) throws IOException {
        Object h = handles.get(handle);
        if (h instanceof WorkingHandle w && w.writable()) {
            w.content().truncate(size);
        } else if (!(h instanceof ControlFile)) {
            throw new FsException(Errno.EBADF, "not open for writing");
        }
    }

    public void truncate(String path, long size) throws IOException {
        if (isControl(path)) {
            if (!strip(path).equals(RESERVED + "/ctl")) {
                throw new FsException(Errno.EPERM, "'" + strip(path) + "' cannot be changed");
            }
            return; // `echo cmd > .quiltfs/ctl` truncates first: nothing to do
        }
        requireEditable();
        writable(key(path), size == 0, size, null);
    }

    /** Forces a working copy's bytes and the journal to the disk. */
    public void fsync(long handle) throws IOException {
        if (handles.get(handle) instanceof WorkingHandle w) {
            w.content().force();
        }
    }

    /**
     * {@code fsync} of a folder: forces the journal (and the names of the copies made since the
     * last sync), so that the renames, removals and new files of the tree survive a power loss,
     * as after the {@code fsync} of a folder on a local disk (write a temporary file, fsync it,
     * rename it over the old one, fsync the folder). A read-only tree has nothing to force.
     */
    public void fsyncdir() throws IOException {
        if (area != null) {
            area.forceFolder();
            area.forceJournal();
        }
    }

    /**
     * A close of a descriptor (one of its copies: {@code exec 3<>ctl} lets each command of a
     * shell flush it): runs the complete lines written to {@code .quiltfs/ctl}; a line not yet
     * ended waits for the rest, for a read of the descriptor, or for its release.
     */
    public void flush(long handle) throws IOException {
        if (handles.get(handle) instanceof ControlFile c) {
            c.runPending(false);
        }
    }

    public void release(long handle) throws IOException {
        Object h = handles.remove(handle);
        if (h instanceof ObjectStore.View v) {
            WorkArea.Content copy;
            readLock(); // not while a working copy is being made: it may be redirecting this handle
            try {
                copy = redirected.remove(v);
                readers.remove(v);
            } finally {
                readUnlock();
            }
            v.close();
            if (copy != null) {
                copy.releaseHandle();
                revertIfUnchanged(copy);
            }
        } else if (h instanceof WorkingHandle w) {
            w.content().releaseHandle();
            revertIfUnchanged(w.content());
        } else if (h instanceof ControlFile c) {
            c.release();
        }
    }

    /**
     * The last descriptor of a working copy closed: when its bytes are what the key shows without
     * it (opened for writing without a write, the same bytes written back, or a copy a pull or a
     * commit made the key's row while it was open), the key goes back to its row and the copy
     * leaves the working area, so that status and unmount see no change. Sizes are compared
     * first; bytes only when something was written or the row is not the one the copy was made
     * from (a pull placed it, a commit or pull moved the tree on), against the cached object
     * (stopping at the first difference) or else its hash.
     */
    private void revertIfUnchanged(WorkArea.Content c) throws IOException {
        if (!(c.origin instanceof Origin o)) {
            return;
        }
        Entry under;
        boolean sameBase;
        readLock();
        try {
            under = underlying(c, o);
            sameBase = o.base() == base;
        } finally {
            readUnlock();
        }
        if (under == null) {
            return;
        }
        long seen = c.changes();
        Path file = c.path();
        java.nio.file.attribute.PosixFileAttributes a;
        try {
            a = c.attributes();
        } catch (java.nio.file.NoSuchFileException gone) {
            return;
        }
        if (a.size() != under.size()
                || a.permissions().contains(java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE)
                || c.timeSet()) {
            return; // the execute bit, or a time set by hand (`touch -d`, `cp -p`), is kept as a local change
        }
        // An unwritten copy holds its origin's row only while that row still is the key's: a
        // copy a pull placed (no origin revision) holds the pulled bytes, not the old row's, until
        // the rebase makes them the row; a commit or pull since may have changed the row too.
        if ((seen > 0 || !sameBase) && !sameBytes(file, under)) {
            return;
        }
        tree.writeLock().lock();
        try {
            if (!under.equals(underlying(c, o)) || (sameBase && o.base() != base)) {
                return;
            }
            // The descriptors first, the changes after: a close takes its handle out before it
            // takes the tree's lock, so a descriptor this scan no longer finds may have written
            // since `seen`, but it did so before it left the table (and none joins under this lock).
            Map<ObjectStore.View, Long> back = new HashMap<>();
            boolean[] held = {false};
            handles.forEach((h, x) -> {
                if (x instanceof WorkingHandle w && w.content() == c) {
                    held[0] = true;
                } else if (x instanceof ObjectStore.View v && redirected.get(v) == c) {
                    back.put(v, h);
                }
            });
            if (held[0] || back.keySet().stream().anyMatch(v -> !v.entry().hash().equals(under.hash()))) {
                return; // a descriptor reads this copy: it stays one file with the key
            }
            if (c.changes() != seen) {
                return; // written since its bytes were compared
            }
            String k = c.key;
            Origin now = (Origin) c.origin;
            if (now.moved() != null && now.base() == base && now.key().equals(k)) {
                area.put(k, now.moved());
            } else {
                area.remove(k);
            }
            for (Map.Entry<ObjectStore.View, Long> e : back.entrySet()) {
                // Readers of the row read its object again: the same bytes.
                redirected.remove(e.getKey());
                readers.put(e.getKey(), new Reader(e.getValue(), k));
                c.releaseHandle();
            }
            if (area.isEmpty()) {
                area.compact(); // an empty journal: nothing to replay, nothing to report
            }
        } finally {
            tree.writeLock().unlock();
        }
    }

    /**
     * The row key {@code c.key} would show without the working copy {@code c} (under the tree
     * lock), or null when there is none or {@code c} no longer is that key's file.
     */
    private Entry underlying(WorkArea.Content c, Origin o) {
        String k = c.key;
        if (k == null || area.node(k) != c) {
            return null;
        }
        if (o.moved() != null && o.base() == base && o.key().equals(k)) {
            return o.moved().entry();
        }
        int row = base.manifest().find(k);
        return row < 0 ? null : base.manifest().entry(row);
    }

    /**
     * Closes that read a working copy whole to compare it with its row (sizes decide first, and
     * a copy nothing wrote to needs no look): what tests check is not done needlessly.
     */
    final java.util.concurrent.atomic.LongAdder byteComparisons = new java.util.concurrent.atomic.LongAdder();

    /**
     * Whether {@code file} holds the row's bytes: against the cached object, else the row's hash
     * of the whole file. Called with no lock held: on a close (a FUSE worker that no other
     * request waits for; the kernel does not wait for RELEASE), the copy's last descriptor gone.
     */
    private boolean sameBytes(Path file, Entry row) throws IOException {
        byteComparisons.increment();
        Path cached = objects.cache().lookup(row.hash());
        if (cached != null) {
            try {
                return Files.mismatch(file, cached) == -1;
            } catch (java.nio.file.NoSuchFileException evicted) {
                // fall through to the hash
            }
        }
        try {
            return io.quiltfs.store.hash.FileHasher.hash(file, row.hash().type()).equals(row.hash());
        } catch (java.nio.file.NoSuchFileException gone) {
            return false;
        }
    }

    private void requireEditable() throws FsException {
        if (area == null) {
            throw new FsException(Errno.EROFS, "read-only mount");
        }
    }

    /** A key that may be created: a valid logical key under an existing folder. */
    private String creatable(String path) throws FsException {
        if (isControl(path)) {
            throw new FsException(Errno.EPERM, "'" + RESERVED + "' holds only the mount's control files");
        }
        requireEditable();
        String k = key(path);
        if (k.isEmpty()) {
            throw new FsException(Errno.EEXIST, "the root exists");
        }
        String problem = io.quiltfs.store.manifest.LogicalKey.problem(k);
        if (problem != null) {
            throw new FsException(Errno.EINVAL, problem + ": '" + k + "'");
        }
        if (k.indexOf(REPLACEMENT) >= 0) {
            // The kernel's bytes reach us decoded, a byte that is not UTF-8 as U+FFFD: names with
            // different bytes there would be one key (one file silently replacing another). Before
            // the length: decoded, each such byte is 3 bytes long.
            throw new FsException(Errno.EINVAL, "a name that is not valid UTF-8 (or holds U+FFFD): '" + k + "'");
        }
        String name = k.substring(k.lastIndexOf('/') + 1);
        if (name.length() > NAME_MAX / 3 && name.getBytes(StandardCharsets.UTF_8).length > NAME_MAX) {
            // What statfs promises; a longer name could not be installed on a local disk either.
            throw new FsException(Errno.ENAMETOOLONG, "a name over " + NAME_MAX + " bytes: '" + name + "'");
        }
        int slash = k.lastIndexOf('/');
        Object parent = resolve(base, slash < 0 ? "" : k.substring(0, slash));
        if (parent == null) {
            throw new FsException(Errno.ENOENT, "no such folder: " + k.substring(0, Math.max(slash, 0)));
        }
        if (parent != DIR) {
            throw new FsException(Errno.ENOTDIR, "not a folder: " + k.substring(0, slash));
        }
        return k;
    }

    /** Creates (or truncates) a file and opens it for writing: {@code creat(2)}. */
    public long create(String path, int mode) throws IOException {
        return create(path, mode, O_WRONLY | O_TRUNC);
    }

    /**
     * Creates a file and opens it; {@code flags} as open(2) got them: the descriptor writes only
     * with O_WRONLY or O_RDWR ({@code open(name, O_CREAT|O_RDONLY)} makes an empty file and reads
     * it, and does not count as open for writing). The kernel asks this only for a name it
     * believes missing, but that belief may be a second old (a pull may have placed the file
     * since): an existing file then is EEXIST with O_EXCL, truncated only with O_TRUNC, keeps its
     * mode, and is opened as {@link #open} opens it.
     */
    public long create(String path, int mode, int flags) throws IOException {
        for (int attempt = 1; ; attempt++) {
            long h = createIfMissing(path, mode, flags);
            if (h >= 0) {
                return h;
            }
            // The name exists after all: an open of it (its mode kept, truncated only with O_TRUNC).
            Runnable hook = beforeCreateOpens;
            if (hook != null) {
                hook.run();
            }
            try {
                return open(path, flags & ~O_EXCL);
            } catch (FsException e) {
                // Removed (or renamed away) since it was found, the tree's lock released between:
                // O_CREAT must not answer ENOENT; look again. Bounded: a name removed and made
                // again without end may still get ENOENT.
                if (e.errno() != Errno.ENOENT || attempt == CREATE_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /** Times {@link #create} looks again for a name that went between finding it and opening it. */
    private static final int CREATE_ATTEMPTS = 8;

    /** Run by {@link #create} between finding the name taken and opening it (tests; else null). */
    volatile Runnable beforeCreateOpens;

    /** Creates the file and returns its handle, or -1 when the name exists (its flags allowing). */
    private long createIfMissing(String path, int mode, int flags) throws IOException {
        boolean writes = (flags & O_ACCMODE) != O_RDONLY;
        tree.writeLock().lock();
        try {
            String k = creatable(path);
            Object r = resolve(base, k);
            if (r == DIR) {
                throw new FsException(Errno.EISDIR, "a folder: " + k);
            }
            if (r != null && (flags & O_EXCL) != 0) {
                throw new FsException(Errno.EEXIST, "exists: " + k);
            }
            if (r != null) {
                return -1;
            }
            WorkArea.Content c = area.create(k);
            if ((mode & 0100) != 0) {
                c.setExecutable(true);
            }
            return hold(c, writes);
        } finally {
            tree.writeLock().unlock();
        }
    }

    public void mkdir(String path) throws IOException {
        tree.writeLock().lock();
        try {
            String k = creatable(path);
            if (resolve(base, k) != null) {
                throw new FsException(Errno.EEXIST, "exists: " + k);
            }
            area.put(k, new WorkArea.Folder());
        } finally {
            tree.writeLock().unlock();
        }
    }

    public void unlink(String path) throws IOException {
        if (isControl(path)) {
            throw new FsException(Errno.EPERM, "the control files cannot be removed");
        }
        requireEditable();
        String k = key(path);
        tree.writeLock().lock();
        try {
            if (removedOpen.remove(k) != null) {
                return; // libfuse's name for a removed file, at its last close
            }
            Object r = resolve(base, k);
            if (r == null) {
                throw new FsException(Errno.ENOENT, "no such file: " + k);
            }
            if (r == DIR) {
                throw new FsException(Errno.EISDIR, "a folder: " + k);
            }
            removeKey(k);
        } finally {
            tree.writeLock().unlock();
        }
    }

    /** Hides {@code k} (a Gone node when the base has it, else back to the base's nothing). */
    private void removeKey(String k) throws IOException {
        detachReaders(k);
        Base b = base;
        if (b.manifest().find(k) >= 0 || b.isFolder(k)) {
            area.put(k, new WorkArea.Gone());
        } else if (area.node(k) != null) {
            area.remove(k);
        }
    }

    public void rmdir(String path) throws IOException {
        if (isControl(path)) {
            throw new FsException(Errno.EPERM, "the control folder cannot be removed");
        }
        requireEditable();
        String k = key(path);
        if (k.isEmpty()) {
            throw new FsException(Errno.EBUSY, "the mount's root");
        }
        tree.writeLock().lock();
        try {
            Object r = resolve(base, k);
            if (r == null) {
                throw new FsException(Errno.ENOENT, "no such folder: " + k);
            }
            if (r != DIR) {
                throw new FsException(Errno.ENOTDIR, "not a folder: " + k);
            }
            if (!children(base, k).isEmpty()) {
                throw new FsException(Errno.ENOTEMPTY, "not empty: " + k);
            }
            removeKey(k);
            // libfuse no longer has a path for files removed while open in it: it never asks again
            removedOpen.keySet().removeIf(h -> h.startsWith(k + "/"));
        } finally {
            tree.writeLock().unlock();
        }
    }

    /** Renames a file or a whole folder; replaces a file or an empty folder at the target. */
    public void rename(String from, String to) throws IOException {
        if (isControl(from) || isControl(to)) {
            throw new FsException(Errno.EPERM, "'" + RESERVED + "' holds only the mount's control files");
        }
        requireEditable();
        String f = key(from);
        tree.writeLock().lock();
        try {
            String t = creatable(to);
            Base b = base;
            Object rf = resolve(b, f);
            if (rf == null) {
                throw new FsException(Errno.ENOENT, "no such file: " + f);
            }
            if (f.isEmpty()) {
                throw new FsException(Errno.EBUSY, "the mount's root");
            }
            if (f.equals(t)) {
                return;
            }
            if (rf != DIR && REMOVED_OPEN.matcher(t).matches() && resolve(b, t) == null) {
                // libfuse removing an open file (unlink, or a rename over it): the descriptors
                // keep it, the tree loses it, as on a local disk.
                removedOpen.put(t, rf instanceof Integer row ? b.manifest().entry(row)
                        : rf instanceof WorkArea.Moved m ? m.entry() : rf);
                removeKey(f);
                return;
            }
            Object rt = resolve(b, t);
            if (rf != DIR) {
                if (rt == DIR) {
                    throw new FsException(Errno.EISDIR, "a folder: " + t);
                }
                moveFile(b, f, t, rf);
                return;
            }
            if (t.startsWith(f + "/")) {
                throw new FsException(Errno.EINVAL, "cannot move a folder into itself: " + f + " -> " + t);
            }
            if (rt != null && rt != DIR) {
                throw new FsException(Errno.ENOTDIR, "not a folder: " + t);
            }
            if (rt == DIR && !children(b, t).isEmpty()) {
                throw new FsException(Errno.ENOTEMPTY, "not empty: " + t);
            }
            List<String> dirs = new ArrayList<>();
            List<String> files = new ArrayList<>();
            walk(b, f, dirs, files);
            area.put(t, new WorkArea.Folder());
            for (String d : dirs) {
                area.put(t + d.substring(f.length()), new WorkArea.Folder());
            }
            for (String file : files) {
                moveFile(b, file, t + file.substring(f.length()), resolve(b, file));
            }
            for (int i = dirs.size() - 1; i >= 0; i--) {
                removeKey(dirs.get(i));
            }
            removeKey(f);
            for (String h : new ArrayList<>(removedOpen.keySet())) {
                if (h.startsWith(f + "/")) {
                    removedOpen.put(t + h.substring(f.length()), removedOpen.remove(h)); // libfuse moves them too
                }
            }
        } finally {
            tree.writeLock().unlock();
        }
    }

    /** Every visible folder and file under {@code dir}, folders before their contents. */
    private void walk(Base b, String dir, List<String> dirs, List<String> files) {
        for (Map.Entry<String, Boolean> e : children(b, dir).entrySet()) {
            String k = dir + "/" + e.getKey();
            if (e.getValue()) {
                dirs.add(k);
                walk(b, k, dirs, files);
            } else {
                files.add(k);
            }
        }
    }

    private void moveFile(Base b, String f, String t, Object rf) throws IOException {
        WorkArea.Node n = rf instanceof WorkArea.Node node ? node
                : new WorkArea.Moved(b.manifest().entry((Integer) rf), b.topHash(), f);
        detachReaders(t); // a file replaced by the rename: its readers keep its bytes
        area.put(t, n); // first: the content keeps a key, so it is not taken for removed
        moveReaders(f, t);
        removeKey(f);
    }

    /**
     * What {@code k} is now (a written file, a base or moved row, or DIR; or what a file removed
     * while open was, for fchmod and futimens of its descriptors); ENOENT when nothing.
     */
    private Object existing(String k) throws IOException {
        Object r;
        readLock();
        try {
            r = resolve(base, k);
            if (r == null) {
                r = removedOpen.get(k);
            }
        } finally {
            readUnlock();
        }
        if (r == null) {
            throw new FsException(Errno.ENOENT, "no such file: " + k);
        }
        return r;
    }

    /** Only the execute bit means something (and only for the mount; a package records no modes). */
    public void chmod(String path, int mode) throws IOException {
        if (isControl(path)) {
            throw new FsException(Errno.EPERM, "the control files' modes are fixed");
        }
        requireEditable();
        String k = key(path);
        Object r = existing(k);
        if (r == DIR || r instanceof Entry) {
            return; // a folder, or a removed row that nobody can write
        }
        boolean x = (mode & 0100) != 0;
        if (r instanceof WorkArea.Content c && removedOpen.get(k) == c) {
            c.setExecutable(x); // fchmod of a removed file's descriptor: its copy is no key's any more
        } else if (x || r instanceof WorkArea.Content) {
            writable(k, false, -1, w -> w.setExecutable(x));
        }
    }

    /** Sets a file's modification time; folders keep the revision's time. */
    public void utimens(String path, java.time.Instant mtime) throws IOException {
        if (isControl(path)) {
            return;
        }
        requireEditable();
        String k = key(path);
        Object r = existing(k);
        if (r == DIR || r instanceof Entry) {
            return; // a folder, or a removed row that nobody can write
        }
        if ((mtime.getEpochSecond() < 0 && mtime.getNano() != 0) || mtime.isBefore(EARLIEST_TIME)
                || mtime.isAfter(LATEST_TIME)) {
            // Java sets a file's times in nanoseconds since 1970 in a long (it would make a time
            // past 2262 or before 1677 the last or first one without a word), split into seconds
            // and nanoseconds by truncating division: before 1970 only whole seconds come out right.
            throw new FsException(Errno.EINVAL, "a time before 1970 with a fraction of a second, or after 2262,"
                    + " cannot be kept: " + mtime + " for '" + k + "'");
        }
        if (r instanceof WorkArea.Content c && removedOpen.get(k) == c) {
            c.setMtime(mtime); // futimens of a removed file's descriptor
            return;
        }
        writable(k, false, -1, w -> w.setMtime(mtime));
    }

    // Commit support: snapshots, the working files they show, and the rebase that follows.

    /** The working area's changes frozen at one instant, as a commit sees them. */
    public final class Snapshot {
        final Base base;
        final Map<String, Object> view;
        final Map<String, WorkArea.Node> nodes;
        final Map<WorkArea.Content, Long> ids;

        Snapshot(Base base, Map<String, Object> view, Map<String, WorkArea.Node> nodes, Map<WorkArea.Content, Long> ids) {
            this.base = base;
            this.view = view;
            this.nodes = nodes;
            this.ids = ids;
        }

        public io.quiltfs.store.workflow.WorkingFiles files() {
            return new AreaFiles(PackageFs.this, base.manifest(), view, false);
        }
    }

    /**
     * Freezes every working copy (a write in progress finishes first; later writes go to new
     * copies) and returns the changes as they are now.
     */
    public Snapshot snapshot() {
        requireArea();
        tree.writeLock().lock();
        try {
            Map<String, Object> view = new HashMap<>();
            Map<String, WorkArea.Node> nodes = new HashMap<>();
            Map<WorkArea.Content, Long> ids = new HashMap<>();
            for (Map.Entry<String, WorkArea.Node> e : area.all().entrySet()) {
                WorkArea.Node n = e.getValue();
                nodes.put(e.getKey(), n);
                if (n instanceof WorkArea.Content c) {
                    AreaFiles.Copy copy = c.freezeCopy();
                    ids.put(c, copy.id());
                    view.put(e.getKey(), copy);
                } else if (n instanceof WorkArea.Moved m) {
                    view.put(e.getKey(), m.entry());
                } else if (n instanceof WorkArea.Gone || hidesRow(n, e.getKey())) {
                    view.put(e.getKey(), AreaFiles.GONE);
                }
            }
            return new Snapshot(base, view, nodes, ids);
        } finally {
            tree.writeLock().unlock();
        }
    }

    /** The working files as they are now (for status and pull). */
    public io.quiltfs.store.workflow.WorkingFiles liveFiles() {
        requireArea();
        readLock();
        try {
            Map<String, Object> view = new HashMap<>();
            for (Map.Entry<String, WorkArea.Node> e : area.all().entrySet()) {
                WorkArea.Node n = e.getValue();
                if (n instanceof WorkArea.Content c) {
                    view.put(e.getKey(), c);
                } else if (n instanceof WorkArea.Moved m) {
                    view.put(e.getKey(), m.entry());
                } else if (n instanceof WorkArea.Gone || hidesRow(n, e.getKey())) {
                    view.put(e.getKey(), AreaFiles.GONE);
                }
            }
            return new AreaFiles(this, base.manifest(), view, true);
        } finally {
            readUnlock();
        }
    }

    /**
     * Whether {@code n} is a folder made where the base has a file row (the file was removed and
     * a folder made in its place): the row is gone, as a Gone node would say.
     */
    private boolean hidesRow(WorkArea.Node n, String k) {
        return n instanceof WorkArea.Folder && base.manifest().find(k) >= 0;
    }

    private void requireArea() {
        if (area == null) {
            throw new IllegalStateException("a read-only tree has no working area");
        }
    }

    /**
     * Shows {@code manifest} (the new head) under the changes made since {@code taken}: what the
     * snapshot held and nobody changed since is now part of the revision and leaves the working
     * area; removed keys and folders the revision now agrees with are dropped too.
     */
    public void rebase(Manifest manifest, String topHash, Snapshot taken) throws IOException {
        requireArea();
        tree.writeLock().lock();
        try {
            Set<String> emptied = emptiedFolders();
            Base nb = Base.of(manifest, topHash, System.currentTimeMillis() / 1000);
            base = nb;
            if (taken != null) {
                for (Map.Entry<String, WorkArea.Node> e : taken.nodes.entrySet()) {
                    WorkArea.Node n = e.getValue();
                    if (n instanceof WorkArea.Content c) {
                        if (area.unchangedSince(c, taken.ids.get(c))) {
                            area.dropIfSame(e.getKey(), n);
                        }
                    } else if (n instanceof WorkArea.Moved) {
                        area.dropIfSame(e.getKey(), n);
                    }
                }
            }
            Set<WorkArea.Node> pulled = placed;
            if (pulled != null) {
                for (Map.Entry<String, WorkArea.Node> e : new ArrayList<>(area.all().entrySet())) {
                    if (pulled.contains(e.getValue()) && e.getValue() instanceof WorkArea.Content c
                            && area.unchangedSince(c, c.id())) {
                        area.dropIfSame(e.getKey(), c);
                    }
                }
            }
            for (Map.Entry<String, WorkArea.Node> e : new ArrayList<>(area.all().entrySet())) {
                String k = e.getKey();
                WorkArea.Node n = e.getValue();
                boolean inBase = nb.manifest().find(k) >= 0 || nb.isFolder(k);
                if ((n instanceof WorkArea.Gone && !inBase) || (n instanceof WorkArea.Folder && nb.isFolder(k))) {
                    area.dropIfSame(k, n);
                }
            }
            for (String d : emptied) {
                if (resolve(nb, d) == null) {
                    area.put(d, new WorkArea.Folder()); // no row of the new revision names it: kept here
                }
            }
            area.compact();
            Set<Long> open = new HashSet<>();
            handles.forEach(h -> {
                if (h instanceof WorkingHandle w) {
                    open.add(w.content().id());
                }
            });
            redirected.values().forEach(c -> open.add(c.id()));
            area.sweep(open);
        } finally {
            tree.writeLock().unlock();
        }
    }

    /**
     * After a pull that finished one stopped half-way (and the {@link #rebase} that followed):
     * the copies the stopped pull wrote hold rows of the new head, but this pull did not place
     * them again (they were right already), so the rebase did not take them in. After an abandon
     * (the head did not move, no rebase): the copies it placed hold the head's rows. Each such copy
     * (placed by a pull, or found in the working area at mount) that no descriptor has open and
     * whose bytes and mode are its row's goes back to being that row, as at a close: sizes
     * first, bytes compared with no lock held, and dropped only if nothing changed meanwhile. A
     * copy that differs stays a change.
     */
    public void takeInFinishedPull() throws IOException {
        requireArea();
        List<WorkArea.Content> candidates = new ArrayList<>();
        tree.writeLock().lock();
        try {
            Set<WorkArea.Content> open = new HashSet<>();
            handles.forEach(h -> {
                if (h instanceof WorkingHandle w) {
                    open.add(w.content());
                }
            });
            for (Map.Entry<String, WorkArea.Node> e : area.all().entrySet()) {
                if (e.getValue() instanceof WorkArea.Content c && !open.contains(c)
                        && base.manifest().find(e.getKey()) >= 0
                        && (c.origin == null || c.origin instanceof Origin o && o.base() == null && o.moved() == null)) {
                    c.origin = new Origin(null, e.getKey(), null); // compared with the key's row of the head
                    candidates.add(c);
                }
            }
        } finally {
            tree.writeLock().unlock();
        }
        for (WorkArea.Content c : candidates) {
            revertIfUnchanged(c);
        }
    }

    /**
     * The folders shown now above a change of the working area (under the tree's write lock).
     * One shown by the revision's rows only, whose rows were all removed or replaced here (by a
     * folder, say), would vanish with a revision that no longer has them, where a local disk
     * keeps the folder that was emptied (SEMANTICS: a folder left empty stays in the working
     * area until it is removed).
     */
    private Set<String> emptiedFolders() {
        Set<String> folders = new HashSet<>();
        for (String k : area.all().keySet()) {
            for (int i = k.lastIndexOf('/'); i > 0 && folders.add(k.substring(0, i)); i = k.lastIndexOf('/', i - 1)) {
                // each parent once: when one is in already, so are its parents
            }
        }
        Base b = base;
        folders.removeIf(d -> resolve(b, d) != DIR);
        return folders;
    }

    /** Starts recording what a pull writes (taken in by the rebase that ends it). */
    public void beginPull() {
        placed = java.util.concurrent.ConcurrentHashMap.newKeySet();
    }

    /**
     * Ends a pull (after the rebase that takes in what it placed, with the package's lock
     * released): waits, bounded, for the kernel to have dropped the pages it cached for the files
     * the pull changed under open descriptors (each drop was queued as its file was placed), so
     * that the pull's answer follows them, and for the names it added or removed. A command that queued no drop
     * does not wait.
     */
    public void endPull() {
        placed = null;
        Kernel kn = kernel;
        if (kn != null && dropsQueued.getAndSet(false)) {
            kn.awaitInvalidations();
        }
    }

    /** Whether a descriptor open for writing holds the file at {@code k} (a pull leaves it alone). */
    boolean openForWriting(String k) {
        readLock();
        try {
            if (!(area.node(k) instanceof WorkArea.Content c)) {
                return false; // a file open for writing always has its working copy
            }
            boolean[] writing = {false};
            handles.forEach(h -> {
                if (h instanceof WorkingHandle w && w.writable() && w.content() == c) {
                    writing[0] = true;
                }
            });
            return writing[0];
        } finally {
            readUnlock();
        }
    }

    /** A pull writes a key: a new working copy holding {@code source}. */
    io.quiltfs.store.workflow.WorkingFiles.FileStat place(String k, Path source) throws IOException {
        List<Long> changed;
        io.quiltfs.store.workflow.WorkingFiles.FileStat st;
        List<String> missing = new ArrayList<>();
        tree.writeLock().lock();
        try {
            String parent = io.quiltfs.store.manifest.LogicalKey.parent(k);
            for (String d = parent; !d.isEmpty() && resolve(base, d) != DIR; d = io.quiltfs.store.manifest.LogicalKey.parent(d)) {
                missing.add(d);
            }
            for (int i = missing.size() - 1; i >= 0; i--) {
                area.put(missing.get(i), new WorkArea.Folder());
            }
            Object before = resolve(base, k);
            // A name the kernel may hold as absent (looked up before the pull) or as a folder:
            // dropped below. A file that was there keeps its name (only its pages may change).
            if (before == null || before == DIR) {
                missing.add(k);
            }
            WorkArea.Node old = area.node(k);
            WorkArea.Content c = area.adopt(k, copyInto(source));
            c.origin = new Origin(null, k, null); // once the rebase makes it the key's row, it may go
            area.freeze(c);
            // The file changes in place, as under a write through the mount: its open
            // descriptors read the new bytes (the kernel shares one page cache among them).
            changed = redirectReaders(k, c);
            if (old instanceof WorkArea.Content was) {
                changed.addAll(moveHandles(was, c));
            }
            Set<WorkArea.Node> p = placed;
            if (p != null) {
                p.add(c);
            }
            contentChanged = true;
            st = c.fileStat();
        } finally {
            tree.writeLock().unlock();
        }
        // The nodes now, while the descriptors are surely open, and their drops queued now: a
        // descriptor on this file must not read its old cached pages (or old size) mixed with the
        // new bytes for the rest of a long pull. Queued, not sent here: the kernel may wait for
        // reads in flight, and this thread holds the package's lock; endPull waits for them.
        Kernel kn = kernel;
        if (kn != null && !missing.isEmpty()) {
            // New names: the file's when it was absent, and its new folders'.
            if (kn.invalidateNames(missing)) {
                dropsQueued.set(true);
            }
        }
        if (kn != null && !changed.isEmpty()) {
            List<Long> nodes = new ArrayList<>();
            for (long h : changed) {
                long node = kn.node(h);
                if (node != 0) {
                    nodes.add(node);
                }
            }
            if (!nodes.isEmpty()) {
                dropsQueued.set(true);
                kn.invalidate(nodes);
            }
        }
        return st;
    }

    /**
     * Descriptors open on the working copy {@code was} use {@code now} from now on (a pull
     * replaced the file's content, as a write through another descriptor would have): those
     * open for writing too, so that what they write after the pull is in the file and not in a
     * copy no key shows any more. Returns their handles.
     */
    private List<Long> moveHandles(WorkArea.Content was, WorkArea.Content now) throws IOException {
        Map<Long, WorkingHandle> on = new HashMap<>();
        handles.forEach((h, o) -> {
            if (o instanceof WorkingHandle w && w.content() == was) {
                on.put(h, w);
            }
        });
        List<Long> moved = new ArrayList<>();
        for (Map.Entry<Long, WorkingHandle> e : on.entrySet()) {
            // A close may take the handle out meanwhile (release holds no lock): it then releases
            // the copy it found, and the replace must neither leave `now` held nor release `was` twice.
            now.acquire();
            if (handles.replace(e.getKey(), e.getValue(), new WorkingHandle(now, e.getValue().writable()))) {
                was.releaseHandle();
                moved.add(e.getKey());
            } else {
                now.releaseHandle();
            }
        }
        return moved;
    }

    private Path copyInto(Path source) throws IOException {
        Path tmp = area.newFile();
        Files.copy(source, tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return tmp;
    }

    /**
     * A pull removes a key, and the folders above it that the working area made (for files a
     * pull placed, or made by hand) and that it leaves empty, as a working folder's removal does:
     * an abandoned pull's new folder does not stay behind as an empty one.
     */
    void delete(String k) throws IOException {
        List<String> gone = new ArrayList<>();
        tree.writeLock().lock();
        try {
            if (resolve(base, k) != null) {
                removeKey(k);
                gone.add(k);
            }
            Base b = base;
            for (String d = io.quiltfs.store.manifest.LogicalKey.parent(k); !d.isEmpty();
                    d = io.quiltfs.store.manifest.LogicalKey.parent(d)) {
                if (!(area.node(d) instanceof WorkArea.Folder) || b.isFolder(d) || !children(b, d).isEmpty()) {
                    break;
                }
                area.remove(d);
                gone.add(d);
            }
        } finally {
            tree.writeLock().unlock();
        }
        Kernel kn = kernel;
        if (kn != null && !gone.isEmpty()) {
            // The kernel may hold these names for the rest of its entry timeout otherwise.
            if (kn.invalidateNames(gone)) {
                dropsQueued.set(true);
            }
        }
    }

    /**
     * Runs {@code use} on the cached object of an entry (fetched first when absent), which stays
     * pinned until it returns: the cache's limit cannot delete it under the reader.
     */
    <T> T readCached(Entry e, io.quiltfs.store.workflow.WorkingFiles.FileUse<T> use) throws IOException {
        try (ObjectStore.View v = objects.open(e)) {
            Path p = v.awaitCached();
            if (p == null) {
                p = objects.cache().lookup(e.hash());
            }
            if (p == null) {
                throw new IOException("the object of '" + e.logicalKey() + "' could not be cached");
            }
            return use.apply(p);
        }
    }

    /**
     * The cached object of an entry, fetched first when absent. Not pinned once returned: the
     * cache's limit may delete it (read it through {@link #readCached}).
     */
    Path cachedObject(Entry e) throws IOException {
        Path p = objects.cache().lookup(e.hash());
        if (p != null) {
            return p;
        }
        try (ObjectStore.View v = objects.open(e)) {
            p = v.awaitCached();
        }
        if (p != null) {
            return p;
        }
        p = objects.cache().lookup(e.hash());
        if (p == null) {
            throw new IOException("the object of '" + e.logicalKey() + "' could not be cached");
        }
        return p;
    }

    // Control files.

    private long openControl(String k, int flags) throws IOException {
        if (!k.equals(RESERVED + "/status") && !k.equals(RESERVED + "/ctl")) {
            if (k.equals(RESERVED)) {
                throw new FsException(Errno.EISDIR, "a folder: " + k);
            }
            throw new FsException(Errno.ENOENT, "no such control file: " + k);
        }
        if (k.endsWith("/status") && ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0)) {
            throw new FsException(Errno.EPERM, "'" + k + "' is read-only (commands go to " + RESERVED + "/ctl)");
        }
        Control c = control;
        if (c == null) {
            throw new FsException(Errno.ENOENT, "this mount has no control files");
        }
        ControlFile f = new ControlFile(c, k.endsWith("/ctl"));
        if (!f.ctl) {
            f.result = c.status().getBytes(StandardCharsets.UTF_8);
        }
        return handles.add(f);
    }

    /** The last result of {@code .quiltfs/ctl}, for a reader that wrote no command. */
    private volatile byte[] lastResult = new byte[0];
    /**
     * Descriptors of ctl flushed (closed) with a line not ended by a newline ({@code printf
     * 'push' > ctl}), which runs at their release: the kernel sends that after {@code close}
     * has returned, so a reader of the last result ({@code ; cat ctl}) waits for them, for a
     * while (a shell's shared {@code exec 3<>ctl} may never be released), and without a bound
     * once the release has begun. Guarded by itself.
     */
    private final java.util.Map<ControlFile, Boolean> unended = new java.util.HashMap<>();
    private static final long UNENDED_WAIT_MILLIS = 2000;

    private void unended(ControlFile f, Boolean releasing) {
        synchronized (unended) {
            if (releasing == null) {
                unended.remove(f);
                unended.notifyAll();
            } else if (releasing) {
                unended.replace(f, true); // only one flushed with an unended line
            } else {
                unended.putIfAbsent(f, false);
            }
        }
    }

    private void awaitUnended() {
        synchronized (unended) {
            long end = System.nanoTime() + UNENDED_WAIT_MILLIS * 1_000_000;
            while (!unended.isEmpty()) {
                long left = (end - System.nanoTime()) / 1_000_000;
                if (unended.containsValue(true)) {
                    left = 100;
                } else if (left <= 0) {
                    return;
                }
                try {
                    unended.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** An open control file: the command written so far and its result. */
    private final class ControlFile {
        final Control control;
        final boolean ctl;
        private final java.io.ByteArrayOutputStream written = new java.io.ByteArrayOutputStream();
        /**
         * Where the last write on this descriptor ended (-1: none). One descriptor can take
         * several commands in turn (write, read the result, write the next: the file position is
         * then past the first result), so this moves with every write instead of counting the
         * bytes written.
         */
        private long resultAt = -1;
        /**
         * The offset the result starts at for this descriptor, fixed by the first read after a
         * write (or the first read at all): at or past {@link #resultAt} the result starts at
         * {@code resultAt} (the position after the command), before it at 0 (a reader that seeked
         * back: {@code seek(0); read()}); -1 until then. Later reads map through it unchanged, so
         * small reads and a seek back never splice two parts of the result.
         */
        private long start = -1;
        /**
         * The result this descriptor reads: its own command's, else the last result as it was at
         * the descriptor's first read (another process's command must not change it mid-read).
         */
        byte[] result;

        ControlFile(Control control, boolean ctl) {
            this.control = control;
            this.ctl = ctl;
        }

        synchronized int write(long offset, ByteBuffer src) {
            int n = src.remaining();
            byte[] b = new byte[n];
            src.get(b);
            written.write(b, 0, n);
            resultAt = offset + n;
            start = -1;
            return n;
        }

        /**
         * Runs what was written: everything when {@code all} (a release or a read), else the
         * complete lines only (up to the last newline outside quotes), keeping the rest.
         */
        synchronized void runPending(boolean all) {
            if (!ctl || written.size() == 0) {
                return;
            }
            String text = written.toString(StandardCharsets.UTF_8);
            int end = all ? text.length() : lineEnd(text);
            written.reset();
            if (end < text.length()) {
                byte[] rest = text.substring(end).getBytes(StandardCharsets.UTF_8);
                written.write(rest, 0, rest.length);
                if (!text.substring(end).isBlank()) {
                    unended(this, false);
                }
            }
            try {
                String line = text.substring(0, end).trim();
                if (!line.isEmpty()) {
                    result = control.run(line).getBytes(StandardCharsets.UTF_8);
                    lastResult = result;
                }
            } finally {
                if (all) {
                    unended(this, null);
                }
            }
        }

        /** The descriptor's last close: what is left of its command runs. */
        void release() {
            if (ctl) {
                unended(this, true);
            }
            runPending(true);
            unended(this, null);
        }

        synchronized int read(long offset, ByteBuffer dst) {
            if (result == null && resultAt < 0 && ctl) {
                awaitUnended(); // the last result may be a release's still to come
            }
            runPending(true);
            if (result == null) {
                result = ctl ? lastResult : new byte[0];
            }
            byte[] r = result;
            if (start < 0 || offset < start) {
                start = resultAt >= 0 && offset >= resultAt ? resultAt : 0;
            }
            long at = offset - start;
            if (at >= r.length) {
                return 0;
            }
            int n = (int) Math.min(dst.remaining(), r.length - at);
            dst.put(r, (int) at, n);
            return n;
        }
    }

    /**
     * Where the complete lines of {@code text} end: after its last newline outside quotes (the
     * shell's quoting, as the commands are split; a backslash before a newline continues the
     * line), 0 when no line is complete.
     */
    static int lineEnd(String text) {
        int end = 0;
        char quote = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quote == '\'') {
                if (c == '\'') {
                    quote = 0;
                }
            } else if (c == '\\') {
                i++; // escapes the next character (in double quotes too: \" and a continued line)
            } else if (quote == '"') {
                if (c == '"') {
                    quote = 0;
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '\n') {
                end = i + 1;
            }
        }
        return end;
    }

    public ObjectStore objects() {
        return objects;
    }

    /** Stops the fetches in flight (their partial bytes are dropped) and closes the working area. */
    @Override
    public void close() {
        objects.close();
        if (area != null) {
            try {
                area.close();
            } catch (IOException e) {
                org.slf4j.LoggerFactory.getLogger(PackageFs.class).warn("closing the working area {}: {}",
                        area.dir(), e.getMessage());
            }
        }
    }

    /** Number of open files. */
    public int openFiles() {
        return handles.size();
    }

    /**
     * The row a file shows, read under one lock (a commit may rebase the tree between two
     * looks): its base row, or the row moved there by a rename; null for a file written through
     * the mount, a folder or a control file.
     */
    private Entry shownRow(String path) throws IOException {
        if (isControl(path)) {
            return null;
        }
        String k = key(path);
        readLock();
        try {
            Base b = base;
            Object r = resolve(b, k);
            if (r instanceof Integer row) {
                return b.manifest().entry(row);
            }
            return r instanceof WorkArea.Moved m ? m.entry() : null;
        } finally {
            readUnlock();
        }
    }

    /** The names of the {@code user.quilt.*} attributes of a path. */
    public List<String> listxattr(String path) throws IOException {
        Attr a = getattr(path);
        Manifest manifest = base.manifest();
        List<String> out = new ArrayList<>();
        Entry e = a.directory() ? null : shownRow(path);
        if (e == null && !a.directory()) {
            return out; // written through the mount: no row yet
        }
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
    public byte[] getxattr(String path, String name) throws IOException {
        Attr a = getattr(path);
        Manifest manifest = base.manifest();
        if (!name.startsWith("user.")) {
            throw new FsException(Errno.ENOTSUP, name + ": only user.* attributes exist here");
        }
        String v = null;
        Entry e = a.directory() ? null : shownRow(path);
        if (a.directory()) {
            if (key(path).isEmpty()) {
                switch (name) {
                    case XATTR_PREFIX + "package" -> v = pkg.toString();
                    case XATTR_PREFIX + "top_hash" -> v = base.topHash();
                    case XATTR_PREFIX + "user_meta" -> v = json(manifest.userMeta());
                    default -> { }
                }
            }
        } else if (e != null) {
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
        Base b = base;
        return new FsStats(bs, (b.totalBytes() + bs - 1) / bs, b.manifest().size(), NAME_MAX);
    }
}
