package io.quiltfs.store.workflow;

import io.quiltfs.store.cache.ChecksumMismatchException;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.manifest.LogicalKey;
import io.quiltfs.store.registry.RegistryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RecursiveAction;
import java.util.concurrent.TimeUnit;

/**
 * A package's working folder on a local file system. Files are placed by copying into a
 * temporary file in the target's folder and renaming it over the target, so an interrupted
 * install or pull leaves whole files only; the temporary names start with {@link #TEMP_PREFIX}
 * and are ignored by {@link #scan}. A copy is made with {@code FileChannel.transferTo} (an
 * in-kernel copy on Linux) and never a hard link: an edit of a working file must not reach the
 * object cache.
 *
 * <p>A pull writes through {@link #guarded}: a file is replaced only if its stat is still the one
 * the pull's check saw, created only where no file stands (a hard link, which fails when one
 * does), and removed only if its stat is still the one the check saw. Between the last look and
 * the rename or unlink lies a window of microseconds that no file system call closes; a write in
 * it is not seen (as with any tool that replaces or removes a file). Nothing is renamed aside,
 * so a kill leaves no file under another name.
 */
public final class WorkFolder implements WorkingFiles {
    static final String TEMP_PREFIX = ".quiltfs-tmp-";
    /** A temporary file's whole name: the prefix, a number, the pid (other names are the package's). */
    private static final java.util.regex.Pattern TEMP_NAME = java.util.regex.Pattern.compile("\\.quiltfs-tmp-[0-9]+-[0-9]+");

    private static final java.util.concurrent.atomic.AtomicLong TEMP_IDS = new java.util.concurrent.atomic.AtomicLong();

    private final Path root;
    /** Folders known to exist (saves a stat per placed file). */
    private final java.util.Set<Path> madeDirs = ConcurrentHashMap.newKeySet();
    /** What a pull's check saw of the keys it changes ({@link #guarded}); null: not guarded. */
    private final Map<String, FileStat> seen;

    public WorkFolder(Path root) {
        this(root, null);
    }

    private WorkFolder(Path root, Map<String, FileStat> seen) {
        this.root = root.toAbsolutePath().normalize();
        this.seen = seen;
    }

    @Override
    public WorkingFiles guarded(Map<String, FileStat> seen) {
        return new WorkFolder(root, Map.copyOf(seen));
    }

    public Path root() {
        return root;
    }

    @Override
    public String describe() {
        return root.toString();
    }

    @Override
    public Map<String, FileStat> scan() throws IOException {
        return scan(16);
    }

    @Override
    public Map<String, FileStat> scan(int expected) throws IOException {
        Map<String, FileStat> out = new ConcurrentHashMap<>(Math.max(16, expected + expected / 8));
        scan((key, stat) -> {
            out.put(key, stat);
            return true;
        });
        return out;
    }

    @Override
    public void scan(ScanSink sink) throws IOException {
        if (Files.isDirectory(root)) {
            // Folders are listed in parallel on the shared pool: a status of 100,000 files is
            // mostly this walk.
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            FileHasher.inPool(() -> new Walk(root, "", sink, stop).invoke());
        }
    }

    /** Lists one folder, forking a task per subfolder; keys are built by concatenation. */
    private final class Walk extends RecursiveAction {
        private final Path dir;
        private final String prefix;
        private final ScanSink out;
        private final java.util.concurrent.atomic.AtomicBoolean stop;

        Walk(Path dir, String prefix, ScanSink out, java.util.concurrent.atomic.AtomicBoolean stop) {
            this.dir = dir;
            this.prefix = prefix;
            this.out = out;
            this.stop = stop;
        }

        @Override
        protected void compute() {
            try {
                List<Walk> subs = new ArrayList<>();
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                    for (Path p : entries) {
                        if (stop.get()) {
                            return;
                        }
                        visit(p, subs);
                    }
                }
                invokeAll(subs);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private void visit(Path p, List<Walk> subs) throws IOException {
            String name = p.getFileName().toString();
            Lstat a;
            try {
                a = lstat(p);
            } catch (NoSuchFileException gone) {
                return;
            }
            String key = prefix + name;
            if (a.directory()) {
                subs.add(new Walk(p, key + "/", out, stop));
                return;
            }
            if (name.startsWith(TEMP_PREFIX) && TEMP_NAME.matcher(name).matches()) {
                removeIfOrphaned(p, name);
                return;
            }
            if (!a.regular()) {
                throw new IOException("'" + key + "' in " + root + " is not a regular file (symbolic links and"
                        + " special files cannot be packaged): remove it or replace it with a file");
            }
            String problem = LogicalKey.problem(key, p);
            if (problem != null) {
                throw new IOException(problem + ": '" + key + "' in " + root + " (rename it)");
            }
            if (!out.accept(key, a.stat())) {
                stop.set(true);
            }
        }
    }

    @Override
    public boolean blocked(String key, java.util.Set<String> leaving) throws IOException {
        Path target = path(key);
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        // The folder goes away only if every file below it leaves and no folder below it is
        // empty (removing a key removes the folders it leaves empty, nothing else).
        try (java.util.stream.Stream<Path> all = Files.walk(target)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    try (DirectoryStream<Path> in = Files.newDirectoryStream(p)) {
                        if (!in.iterator().hasNext()) {
                            return true;
                        }
                    }
                } else if (!leaving.contains(key + "/" + target.relativize(p).toString()
                        .replace(p.getFileSystem().getSeparator(), "/"))) {
                    return true;
                }
            }
        }
        return false;
    }

    @Override
    public FileStat stat(String key) throws IOException {
        Path p = path(key);
        Lstat a;
        try {
            a = lstat(p);
        } catch (NoSuchFileException e) {
            return null;
        }
        return a.regular() ? a.stat() : null;
    }

    /** What one lstat says of a path: its kind and, for a file, its {@link FileStat}. */
    record Lstat(boolean directory, boolean regular, FileStat stat) {
    }

    /** The attributes one lstat gives, by name (the ctime is only in the unix view). */
    private static final String UNIX_STAT = "unix:size,lastModifiedTime,ctime,ino,isDirectory,isRegularFile";

    /**
     * One lstat of {@code p}, ctime included: with the size, mtime and inode alone, a file
     * rewritten with bytes of the same length whose mtime is then set back ({@code cp -p},
     * {@code touch -r}) looked unchanged and kept the hash of its old bytes.
     */
    static Lstat lstat(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, UNIX_STAT, LinkOption.NOFOLLOW_LINKS);
        boolean regular = (Boolean) a.get("isRegularFile");
        return new Lstat((Boolean) a.get("isDirectory"), regular, !regular ? null : new FileStat(
                ((Number) a.get("size")).longValue(),
                ((FileTime) a.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS),
                ((Number) a.get("ino")).longValue(),
                ((FileTime) a.get("ctime")).to(TimeUnit.NANOSECONDS)));
    }

    /** Deletes a temporary file left by a process that was killed (its name ends with the pid). */
    private static void removeIfOrphaned(Path p, String name) {
        try {
            long pid = Long.parseLong(name.substring(name.lastIndexOf('-') + 1));
            if (ProcessHandle.of(pid).isEmpty()) {
                Files.deleteIfExists(p);
            }
        } catch (NumberFormatException | IOException | SecurityException e) {
            // Not ours or not removable: it stays ignored.
        }
    }

    @Override
    public Path path(String key) {
        LogicalKey.require(key);
        Path p = root.resolve(key).normalize();
        if (!p.startsWith(root) || p.equals(root)) {
            throw new IllegalArgumentException("logical key escapes the working folder: '" + key + "'");
        }
        return p;
    }

    @Override
    public FileStat place(String key, Path source) throws IOException {
        return placeWith(key, out -> {
            try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ)) {
                long size = in.size();
                long pos = 0;
                while (pos < size) {
                    long n = in.transferTo(pos, size - pos, out);
                    if (n <= 0) {
                        throw new IOException(source + " shrank while it was copied to '" + key + "'");
                    }
                    pos += n;
                }
            }
        });
    }

    @Override
    public FileStat placeChecked(String key, Path source, Checksum expected, long size, String what)
            throws IOException {
        return placeWith(key, out -> {
            try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ)) {
                if (in.size() != size) {
                    throw new ChecksumMismatchException(what, size, in.size());
                }
                Checksum actual = FileHasher.copy(in, out, size, expected.type());
                if (in.size() != size) {
                    throw new ChecksumMismatchException(what, size, in.size());
                }
                if (!actual.equals(expected)) {
                    throw new ChecksumMismatchException(what, expected, actual);
                }
            } catch (NoSuchFileException e) {
                throw new RegistryException.NotFound("cannot fetch '" + key + "': " + what + " does not exist");
            }
        });
    }

    private interface Filler {
        void fill(FileChannel out) throws IOException;
    }

    /** Writes a temporary file beside {@code key}'s and renames it over {@code key}'s file. */
    private FileStat placeWith(String key, Filler filler) throws IOException {
        Path target = path(key);
        Path dir = target.getParent();
        if (!madeDirs.contains(dir)) {
            try {
                Files.createDirectories(dir);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                throw new IOException("cannot write '" + key + "' in " + root + ": a file stands where a folder is"
                        + " needed (move " + e.getFile() + " aside)");
            }
            madeDirs.add(dir);
        }
        Path tmp = dir.resolve(TEMP_PREFIX + TEMP_IDS.incrementAndGet() + "-" + ProcessHandle.current().pid());
        boolean moved = false;
        try {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                filler.fill(out);
            }
            FileStat was = seen == null ? null : seen.get(key);
            try {
                if (was == ABSENT) {
                    createOnly(key, target, tmp);
                } else {
                    if (was != null) {
                        requireUnchanged(key, target, was);
                    }
                    Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    moved = true;
                }
            } catch (ChangedMeanwhileException e) {
                throw e;
            } catch (IOException e) {
                if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException("cannot write '" + key + "' in " + root + ": a folder stands there (move it"
                            + " aside)");
                }
                throw e;
            }
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
        return stat(key);
    }

    /**
     * Gives {@code tmp}'s file the name {@code target} only if no file has it (a hard link fails
     * where one stands); the caller removes {@code tmp}.
     */
    private static void createOnly(String key, Path target, Path tmp) throws IOException {
        if (!nameIfFree(target, tmp)) {
            throw created(key, target);
        }
    }

    /**
     * Moves {@code file} to {@code name} unless something has that name (then false and nothing
     * changes): a hard link, which fails atomically where a file stands, then the old name removed.
     */
    private static boolean nameIfFree(Path name, Path file) throws IOException {
        try {
            Files.createLink(name, file);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return false;
        } catch (UnsupportedOperationException | java.nio.file.FileSystemException e) {
            // No hard links here: a rename that does not replace (looked at, then done).
            if (Files.exists(name, LinkOption.NOFOLLOW_LINKS)) {
                return false;
            }
            Files.move(file, name);
            return true;
        }
        Files.delete(file);
        return true;
    }

    private static ChangedMeanwhileException created(String key, Path target) {
        return new ChangedMeanwhileException(key, (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)
                ? "became a folder" : "was created") + " while the pull ran");
    }

    /** Throws unless {@code target} is the file {@code was} (same size, mtime, ctime and inode). */
    private static void requireUnchanged(String key, Path target, FileStat was) throws IOException {
        Lstat now;
        try {
            now = lstat(target);
        } catch (NoSuchFileException e) {
            throw new ChangedMeanwhileException(key, "was removed while the pull ran");
        }
        if (!now.regular() || !now.stat().equals(was)) {
            throw new ChangedMeanwhileException(key, "was changed while the pull ran");
        }
    }

    @Override
    public void delete(String key) throws IOException {
        Path p = path(key);
        FileStat was = seen == null ? null : seen.get(key);
        if (was == null) {
            Files.deleteIfExists(p);
        } else if (was == ABSENT) {
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                throw created(key, p);
            }
        } else {
            removeUnchanged(key, p, was);
        }
        removeEmptyFolders(p);
    }

    /**
     * Removes {@code p} only if it is still the file {@code was} (looked at just before the
     * unlink); already gone is what the pull was to do.
     */
    private static void removeUnchanged(String key, Path p, FileStat was) throws IOException {
        try {
            requireUnchanged(key, p, was);
        } catch (ChangedMeanwhileException e) {
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            throw e;
        }
        Checkpoints.reach("pull.removing");
        Files.deleteIfExists(p);
    }

    private void removeEmptyFolders(Path p) throws IOException {
        for (Path d = p.getParent(); d != null && !d.equals(root) && d.startsWith(root); d = d.getParent()) {
            try {
                Files.delete(d);
            } catch (DirectoryNotEmptyException | NoSuchFileException e) {
                break;
            }
        }
    }
}
