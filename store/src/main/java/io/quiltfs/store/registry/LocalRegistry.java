package io.quiltfs.store.registry;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.manifest.ManifestReader;
import io.quiltfs.store.manifest.TopHash;
import io.quiltfs.store.state.AtomicFile;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.HomeLock;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A registry in a local folder ({@code file:///abs/path}), laid out exactly like a bucket. Every
 * write is atomic (temp file, fsync, rename); moving {@code latest} holds a lock file in the
 * registry so that two processes pushing at once cannot both win.
 */
public final class LocalRegistry implements Registry {
    private final Path root;

    public LocalRegistry(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    @Override
    public String uri() {
        return "file://" + PhysicalKey.encode(root.toString());
    }

    private Path quilt() {
        return root.resolve(".quilt");
    }

    private Path manifestPath(String topHash) {
        requireHash(topHash);
        return quilt().resolve("packages").resolve(topHash);
    }

    private Path pointerDir(PackageName pkg) {
        return quilt().resolve("named_packages").resolve(pkg.namespace()).resolve(pkg.name());
    }

    private Path tagDir(PackageName pkg) {
        return quilt().resolve("quiltfs").resolve("tags").resolve(pkg.namespace()).resolve(pkg.name());
    }

    /** Temporary files of registry writes: beside the data, never inside a listed folder. */
    private Path tmpDir() {
        return quilt().resolve("quiltfs").resolve("tmp");
    }

    private final java.util.concurrent.atomic.AtomicBoolean swept = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * The temporary folder, cleared on first use of what killed writers left in it a day ago or
     * more. (By age, not by process: other machines may write to the same folder.)
     */
    private Path freshTmpDir() throws IOException {
        Path dir = Files.createDirectories(tmpDir());
        if (swept.compareAndSet(false, true)) {
            long dayAgo = System.currentTimeMillis() - java.util.concurrent.TimeUnit.DAYS.toMillis(1);
            try (java.nio.file.DirectoryStream<Path> s = Files.newDirectoryStream(dir, ".*.tmp")) {
                for (Path p : s) {
                    if (Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                            && Files.getLastModifiedTime(p).toMillis() < dayAgo) {
                        Files.deleteIfExists(p);
                    }
                }
            } catch (IOException | java.nio.file.DirectoryIteratorException e) {
                // best effort: a stray temporary file is harmless, only untidy
            }
        }
        return dir;
    }

    static void requireHash(String h) {
        if (!TopHash.isTopHash(h)) {
            throw new IllegalArgumentException("invalid top hash '" + h + "': expected 64 lowercase hex digits");
        }
    }

    @Override
    public List<PackageName> listPackages() throws IOException {
        Path np = quilt().resolve("named_packages");
        List<PackageName> out = new ArrayList<>();
        if (!Files.isDirectory(np)) {
            if (!Files.isDirectory(root)) {
                throw new RegistryException.NotFound("no registry at " + uri() + ": " + root + " is not a folder");
            }
            return out;
        }
        try (DirectoryStream<Path> nss = Files.newDirectoryStream(np)) {
            for (Path ns : nss) {
                if (!Files.isDirectory(ns) || !PackageName.isValid(ns.getFileName() + "/x")) {
                    continue;
                }
                try (DirectoryStream<Path> names = Files.newDirectoryStream(ns)) {
                    for (Path n : names) {
                        String full = ns.getFileName() + "/" + n.getFileName();
                        if (Files.isDirectory(n) && PackageName.isValid(full)) {
                            out.add(PackageName.parse(full));
                        }
                    }
                }
            }
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    @Override
    public List<Revision> revisions(PackageName pkg, java.util.function.Consumer<RegistryException.BadPointer> bad)
            throws IOException {
        Path dir = pointerDir(pkg);
        List<Revision> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return requireRoot(out);
        }
        try (DirectoryStream<Path> ptrs = Files.newDirectoryStream(dir)) {
            for (Path p : ptrs) {
                String n = p.getFileName().toString();
                long t = Revision.timestampOf(n);
                if (t < 0) {
                    if (!n.equals("latest")) {
                        bad.accept(Pointers.misnamed(uri(), keyOf(p)));
                    }
                    continue;
                }
                try {
                    String h = readPointerFile(p);
                    if (h != null) {
                        out.add(new Revision(t, h));
                    }
                } catch (RegistryException.BadPointer e) {
                    bad.accept(e);
                }
            }
        }
        out.sort(Comparator.comparingLong(Revision::timestamp).reversed());
        return out;
    }

    /** As every registry resolves, but a folder that does not exist is no registry rather than one without the package. */
    @Override
    public String resolve(PackageRef ref) throws IOException {
        try {
            return Registry.super.resolve(ref);
        } catch (RegistryException.NotFound e) {
            if (!Files.isDirectory(root)) {
                throw new RegistryException.NotFound("no registry at " + uri() + ": " + root + " is not a folder"
                        + " (check the path)");
            }
            throw e;
        }
    }

    @Override
    public String latest(PackageName pkg) throws IOException {
        // (A folder not made yet is a registry without the package: the first push makes it.)
        return readPointer(pkg, "latest");
    }

    /**
     * {@code none}, what a registry without the package holds, once the registry's folder is
     * known to exist: to a listing or a tag, a mistyped path is no registry, not one without
     * revisions or tags.
     */
    private <T> T requireRoot(T none) throws RegistryException.NotFound {
        if (!Files.isDirectory(root)) {
            throw new RegistryException.NotFound("no registry at " + uri() + ": " + root + " is not a folder"
                    + " (check the path)");
        }
        return none;
    }

    @Override
    public String readPointer(PackageName pkg, String pointer) throws IOException {
        return readPointerFile(pointerDir(pkg).resolve(pointer));
    }

    /** The key of a file of this registry: its path below the root, '/'-separated. */
    private String keyOf(Path p) {
        return root.relativize(p).toString();
    }

    /** The top hash a pointer file holds, or null when there is none; {@link RegistryException.BadPointer} when it is no pointer. */
    private String readPointerFile(Path p) throws IOException {
        byte[] b = new byte[Pointers.MAX_BYTES + 1];
        int n = 0;
        try {
            if (!regularFile(p, "pointer")) {
                return null;
            }
        } catch (RegistryException e) {
            throw new RegistryException.BadPointer(uri(), keyOf(p), notRegular(p));
        } catch (java.nio.file.FileSystemException e) {
            throw new RegistryException.BadPointer(uri(), keyOf(p), "cannot be read (" + e.getReason() + ")");
        }
        try (InputStream in = Files.newInputStream(p)) {
            // At most a little more than a pointer holds: a huge file there is not read whole.
            n = in.readNBytes(b, 0, b.length);
        } catch (NoSuchFileException e) {
            return null;
        } catch (java.nio.file.FileSystemException e) {
            throw new RegistryException.BadPointer(uri(), keyOf(p), "cannot be read (" + e.getReason() + ")");
        }
        return Pointers.value(b, n, uri(), keyOf(p));
    }

    /** What {@link #regularFile} found at {@code p}, which is not a regular file. */
    private static String notRegular(Path p) {
        return "is not a regular file (it is a " + (Files.isDirectory(p) ? "folder" : "pipe, socket or device") + ")";
    }

    /**
     * Whether {@code p} exists, refusing anything but a regular file (or a link to one) there:
     * opening a pipe would wait forever for a writer.
     */
    private static boolean regularFile(Path p, String what) throws IOException {
        java.nio.file.attribute.BasicFileAttributes a;
        try {
            a = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            return false;
        }
        if (!a.isRegularFile()) {
            throw new RegistryException(what + " " + p + " is not a regular file (it is a "
                    + (a.isDirectory() ? "folder" : "pipe, socket or device") + ")");
        }
        return true;
    }

    @Override
    public List<String> manifestsStartingWith(String prefix) throws IOException {
        List<String> found = new ArrayList<>();
        Path dir = quilt().resolve("packages");
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, prefix + "*")) {
                for (Path p : s) {
                    String n = p.getFileName().toString();
                    if (TopHash.isTopHash(n)) {
                        found.add(n);
                    }
                }
            }
        }
        return found;
    }

    @Override
    public byte[] readManifestBytes(String topHash) throws IOException {
        if (!regularFile(manifestPath(topHash), "manifest")) {
            throw new RegistryException.NotFound("no manifest " + topHash + " in " + uri());
        }
        try (FileChannel ch = FileChannel.open(manifestPath(topHash))) {
            // Not one read of the whole file: that goes through a temporary native buffer as
            // large as the file (hundreds of MB for millions of rows).
            return ManifestReader.readBytes(Channels.newInputStream(ch), ch.size(), uri() + "/.quilt/packages/" + topHash);
        } catch (NoSuchFileException e) {
            throw new RegistryException.NotFound("no manifest " + topHash + " in " + uri());
        }
    }

    @Override
    public com.fasterxml.jackson.databind.node.ObjectNode readManifestHeader(String topHash) throws IOException {
        Path p = manifestPath(topHash);
        String source = uri() + "/.quilt/packages/" + topHash;
        if (!regularFile(p, "manifest")) {
            throw new RegistryException.NotFound("no manifest " + topHash + " in " + uri());
        }
        byte[] start;
        try (InputStream in = Files.newInputStream(p)) {
            start = ManifestReader.headerBytes(in);
        } catch (NoSuchFileException e) {
            throw new RegistryException.NotFound("no manifest " + topHash + " in " + uri());
        }
        return ManifestReader.readHeader(start, source);
    }

    @Override
    public boolean hasManifest(String topHash) {
        return Files.isRegularFile(manifestPath(topHash));
    }

    @Override
    public long manifestTime(String topHash) throws IOException {
        try {
            return Files.getLastModifiedTime(manifestPath(topHash)).toMillis() / 1000;
        } catch (java.nio.file.NoSuchFileException e) {
            return -1;
        }
    }

    @Override
    public void writeManifestBytes(String topHash, byte[] bytes) throws IOException {
        Path p = manifestPath(topHash);
        if (!Files.exists(p)) {
            writing(p, () -> {
                AtomicFile.write(p, tmpDir(), out -> out.write(bytes));
                return null;
            });
        }
    }

    @Override
    public void writePointer(PackageName pkg, String pointer, String topHash) throws IOException {
        requireHash(topHash);
        // quilt3 reads every file of a pointer folder as a revision: keep temporaries elsewhere.
        byte[] bytes = topHash.getBytes(StandardCharsets.US_ASCII);
        Path p = pointerDir(pkg).resolve(pointer);
        writing(p, () -> {
            AtomicFile.write(p, tmpDir(), out -> out.write(bytes));
            return null;
        });
    }

    @Override
    public boolean createPointer(PackageName pkg, String pointer, String topHash) throws IOException {
        requireHash(topHash);
        Path p = pointerDir(pkg).resolve(pointer);
        return writing(p, () -> AtomicFile.createNew(p, freshTmpDir(), topHash.getBytes(StandardCharsets.US_ASCII)));
    }

    /** A write to this registry; {@link #writing}. */
    private interface Write<T> {
        T run() throws IOException;
    }

    /** Why a file system refuses every write to a folder, not one file's: said of the registry. */
    private static final java.util.Set<String> WHOLE_FOLDER = java.util.Set.of(
            "Read-only file system", "No space left on device", "Disk quota exceeded");

    /**
     * Runs a write of {@code target}. When the file system refuses it as a whole (read-only, full,
     * over quota, no permission) the error names the registry and the file being stored, not
     * the temporary file or lock that happened to fail first.
     */
    private <T> T writing(Path target, Write<T> write) throws IOException {
        try {
            return write.run();
        } catch (RegistryException e) {
            throw e;
        } catch (IOException e) {
            String why = e instanceof java.nio.file.AccessDeniedException d ? "permission denied at " + d.getFile()
                    : wholeFolder(e, root);
            if (why == null) {
                throw e;
            }
            throw new RegistryException("cannot write to the registry " + uri() + " (storing " + keyOf(target)
                    + "): " + why, e);
        }
    }

    /**
     * Why {@code e} refuses every write to the registry (read-only, full, over quota), or null
     * when it is about one file. The JDK says why only in words: a {@link
     * java.nio.file.FileSystemException}'s reason, or the message of a plain IOException from a
     * channel's write or force (ENOSPC, EDQUOT there are no FileSystemException), both in the
     * words of the C library's locale. Words it does not know (another language) are checked
     * against the file system of {@code root} itself, which does not depend on the locale.
     */
    static String wholeFolder(IOException e, Path root) {
        String reason;
        if (e.getClass() == java.nio.file.FileSystemException.class) {
            reason = ((java.nio.file.FileSystemException) e).getReason();
        } else if (e.getClass() == IOException.class) {
            reason = e.getMessage();
        } else {
            return null; // a file that exists, does not, is no folder...: about one file
        }
        if (reason != null && WHOLE_FOLDER.contains(reason)) {
            return reason;
        }
        try {
            Path p = root;
            while (p != null && !Files.exists(p)) {
                p = p.getParent();
            }
            java.nio.file.FileStore store = Files.getFileStore(p == null ? root : p);
            if (store.isReadOnly()) {
                return "Read-only file system";
            }
            if (store.getUsableSpace() == 0) {
                return "No space left on device";
            }
        } catch (IOException | RuntimeException ignored) {
            // no better answer than the error itself
        }
        return null;
    }

    @Override
    public void deletePointer(PackageName pkg, String pointer) throws IOException {
        Path p = pointerDir(pkg).resolve(pointer);
        writing(p, () -> Files.deleteIfExists(p));
    }

    @Override
    public String compareAndSetLatest(PackageName pkg, String expected, String topHash) throws IOException {
        try (HomeLock l = writing(pointerDir(pkg).resolve("latest"), () -> HomeLock.acquire(pointerLock(pkg)))) {
            String now = latest(pkg);
            if (now == null ? expected != null : !now.equals(expected)) {
                return now == null ? "" : now;
            }
            writePointer(pkg, "latest", topHash);
            return null;
        }
    }

    /** Serializes the compare-and-set of a package's latest and tags among processes sharing the folder. */
    private Path pointerLock(PackageName pkg) {
        return quilt().resolve("quiltfs").resolve("locks")
                .resolve(Home.fileName(pkg.namespace() + "." + pkg.name(), ".lock"));
    }

    @Override
    public Map<String, String> tags(PackageName pkg, java.util.function.Consumer<RegistryException.BadPointer> bad)
            throws IOException {
        Map<String, String> out = new TreeMap<>();
        Path dir = tagDir(pkg);
        if (!Files.isDirectory(dir)) {
            return requireRoot(out);
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (!Tags.isValid(n)) {
                    bad.accept(Pointers.misnamedTag(uri(), keyOf(p)));
                    continue;
                }
                try {
                    String h = readPointerFile(p);
                    if (h != null) {
                        out.put(n, h);
                    }
                } catch (RegistryException.BadPointer e) {
                    bad.accept(e);
                }
            }
        }
        return out;
    }

    @Override
    public String tag(PackageName pkg, String tag) throws IOException {
        Tags.require(tag);
        String h = readPointerFile(tagDir(pkg).resolve(tag));
        return h != null ? h : requireRoot(null);
    }

    @Override
    public void setTag(PackageName pkg, String tag, String topHash) throws IOException {
        Tags.require(tag);
        requireHash(topHash);
        // Under the pointer lock too: a compare-and-delete reads and removes the tag under it.
        writing(tagDir(pkg).resolve(tag), () -> {
            try (HomeLock l = HomeLock.acquire(pointerLock(pkg))) {
                writeTag(pkg, tag, topHash);
            }
            return null;
        });
    }

    private void writeTag(PackageName pkg, String tag, String topHash) throws IOException {
        byte[] bytes = topHash.getBytes(StandardCharsets.US_ASCII);
        AtomicFile.write(tagDir(pkg).resolve(tag), tmpDir(), out -> out.write(bytes));
    }

    @Override
    public String compareAndSetTag(PackageName pkg, String tag, String expected, String topHash) throws IOException {
        Tags.require(tag);
        requireHash(topHash);
        return writing(tagDir(pkg).resolve(tag), () -> {
            try (HomeLock l = HomeLock.acquire(pointerLock(pkg))) {
                String now = tag(pkg, tag);
                if (now == null ? expected != null : !now.equals(expected)) {
                    return now == null ? "" : now;
                }
                writeTag(pkg, tag, topHash);
                return null;
            }
        });
    }

    @Override
    public boolean deleteTag(PackageName pkg, String tag) throws IOException {
        Tags.require(tag);
        Path p = tagDir(pkg).resolve(tag);
        return writing(p, () -> {
            try (HomeLock l = HomeLock.acquire(pointerLock(pkg))) {
                return Files.deleteIfExists(p);
            }
        });
    }

    /** Test hook: runs after compareAndDeleteTag read the tag, before it removes it. */
    volatile Runnable afterTagRead;

    @Override
    public String compareAndDeleteTag(PackageName pkg, String tag, String expected) throws IOException {
        Tags.require(tag);
        requireHash(expected);
        Path p = tagDir(pkg).resolve(tag);
        // Every writer of tags takes the pointer lock (setTag too), so what is read here is what
        // is removed.
        return writing(p, () -> compareAndDeleteTag(pkg, tag, expected, p));
    }

    private String compareAndDeleteTag(PackageName pkg, String tag, String expected, Path p) throws IOException {
        try (HomeLock l = HomeLock.acquire(pointerLock(pkg))) {
            String now = tag(pkg, tag); // a folder or a damaged pointer: BadPointer, naming it
            Runnable hook = afterTagRead;
            if (hook != null) {
                hook.run();
            }
            if (now == null) {
                return "";
            }
            if (!now.equals(expected)) {
                return now;
            }
            Files.deleteIfExists(p);
            AtomicFile.fsyncDir(p.getParent());
            return null;
        }
    }

    @Override
    public Placed place(PackageName pkg, String logicalKey, Checksum sum, long size, Path file)
            throws IOException {
        Path pkgDir = root.resolve(pkg.namespace()).resolve(pkg.name());
        return writing(pkgDir.resolve(logicalKey), () -> placeNew(pkg, logicalKey, sum, size, file));
    }

    private Placed placeNew(PackageName pkg, String logicalKey, Checksum sum, long size, Path file)
            throws IOException {
        Path pkgDir = root.resolve(pkg.namespace()).resolve(pkg.name());
        Path target = pkgDir.resolve(logicalKey).normalize();
        if (!target.startsWith(pkgDir)) {
            throw new IllegalArgumentException("logical key escapes the package folder: '" + logicalKey + "'");
        }
        if (!fileAbove(target, pkgDir)) {
            if (createFrom(file, sum, size, target)) {
                return new Placed(PhysicalKey.ofFile(target), true);
            }
            if (holds(PhysicalKey.ofFile(target), sum, size)) {
                return new Placed(PhysicalKey.ofFile(target), false);
            }
        }
        // Different content (or a folder) already sits at the default place, or an earlier
        // revision's file stands where this key needs a folder, and an earlier revision may point
        // at what is there: store this content under a content-addressed name instead.
        Path addressed = quilt().resolve("objects").resolve(Home.objectName(sum));
        return new Placed(PhysicalKey.ofFile(addressed), createFrom(file, sum, size, addressed));
    }

    /** Whether something other than a folder stands at a parent of {@code target} below {@code top}. */
    private static boolean fileAbove(Path target, Path top) {
        for (Path p = target.getParent(); p != null && p.startsWith(top); p = p.getParent()) {
            if (Files.isDirectory(p)) {
                return false;
            }
            if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Copies {@code src} to {@code target} only if the target does not exist; atomic. The copy
     * is made in the registry's temporary folder, not beside the target: a push killed
     * mid-copy must not leave a stray file among the package's data, which other tools list.
     * The bytes are hashed as they are copied (one read of the source) and the copy is linked
     * into place only if they are those of {@code sum}: a file rewritten in place since it was
     * hashed, even at the same size and mtime, is refused rather than stored under a row it does
     * not match. The copy gets the umask's permissions, not the source's (as quilt3's copy, and
     * as the registry's other files): a registry folder may be shared with other users.
     */
    private boolean createFrom(Path src, Checksum sum, long size, Path target) throws IOException {
        if (Files.exists(target)) {
            return false;
        }
        Path dir = target.getParent();
        try {
            Files.createDirectories(dir);
        } catch (FileAlreadyExistsException e) {
            throw new RegistryException("cannot store " + target + ": a file stands where a folder is needed");
        }
        Path tmp = AtomicFile.createSharedTemp(freshTmpDir(), target);
        try {
            try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ);
                 FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                long now = in.size();
                Checksum copied = null;
                if (now == size) {
                    try {
                        copied = FileHasher.copy(in, out, size, sum.type());
                    } catch (IOException e) {
                        if (in.size() == size) {
                            throw e;
                        }
                        // it shrank under the copy: said below
                    }
                    now = in.size();
                }
                if (now != size || !sum.equals(copied)) {
                    // Written to since it was hashed: stored, its row would not match it.
                    throw new RegistryException("cannot store " + keyOf(target) + " in " + uri() + ": " + src
                            + (now != size ? " holds " + now + " bytes, not the " + size + " it was hashed with"
                            : " no longer holds the bytes it was hashed with") + " (it changed meanwhile: is"
                            + " something still writing to it?); nothing was published");
                }
                out.force(true);
            }
            try {
                Files.createLink(target, tmp); // fails if the target appeared meanwhile
            } catch (FileAlreadyExistsException e) {
                return false;
            }
            AtomicFile.fsyncDir(dir);
            return true;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public boolean holds(PhysicalKey key, Checksum sum, long size) throws IOException {
        if (!key.isFile()) {
            return false;
        }
        Path p = key.filePath();
        if (!Files.isRegularFile(p) || Files.size(p) != size) {
            return false;
        }
        return FileHasher.hash(p, sum.type()).equals(sum);
    }

    @Override
    public boolean canRead(PhysicalKey key) {
        return key.isFile();
    }

    @Override
    public InputStream open(PhysicalKey key, long offset, long length) throws IOException {
        return LocalFiles.INSTANCE.open(key, offset, length);
    }

    @Override
    public long size(PhysicalKey key) throws IOException {
        return LocalFiles.INSTANCE.size(key);
    }

    @Override
    public void close() {
    }

    /** Reads {@code file://} objects; shared by every source. */
    static final class LocalFiles implements ObjectSource {
        static final LocalFiles INSTANCE = new LocalFiles();

        @Override
        public boolean canRead(PhysicalKey key) {
            return key.isFile();
        }

        @Override
        public InputStream open(PhysicalKey key, long offset, long length) throws IOException {
            return LocalFiles.openFile(key, offset, length);
        }

        @Override
        public long size(PhysicalKey key) throws IOException {
            return LocalFiles.sizeOf(key);
        }

        private static InputStream openFile(PhysicalKey key, long offset, long length) throws IOException {
            requireRegularFile(key);
            FileChannel ch;
            try {
                ch = FileChannel.open(key.filePath(), StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                throw new RegistryException.NotFound("object " + key + " does not exist");
            }
            ch.position(offset);
            InputStream in = Channels.newInputStream(ch);
            return length < 0 ? in : new BoundedInputStream(in, length);
        }

        private static long sizeOf(PhysicalKey key) throws IOException {
            return requireRegularFile(key).size();
        }

        /**
         * A manifest may name any path: reading a pipe would wait forever for a writer, a device
         * ({@code /dev/zero}) never ends, a folder is no object. Only a regular file (or a link
         * to one) is an object.
         */
        private static java.nio.file.attribute.BasicFileAttributes requireRegularFile(PhysicalKey key)
                throws IOException {
            java.nio.file.attribute.BasicFileAttributes a;
            try {
                a = Files.readAttributes(key.filePath(), java.nio.file.attribute.BasicFileAttributes.class);
            } catch (NoSuchFileException e) {
                throw new RegistryException.NotFound("object " + key + " does not exist");
            }
            if (!a.isRegularFile()) {
                throw new RegistryException("object " + key + " is not a regular file (it is a "
                        + (a.isDirectory() ? "folder" : "pipe, socket or device") + ")");
            }
            return a;
        }
    }

    /** At most {@code limit} bytes of the wrapped stream. */
    static final class BoundedInputStream extends java.io.FilterInputStream {
        private long left;

        BoundedInputStream(InputStream in, long limit) {
            super(in);
            this.left = limit;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = super.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int r = super.read(b, off, (int) Math.min(len, left));
            if (r > 0) {
                left -= r;
            }
            return r;
        }
    }
}
