package io.quiltfs.store.state;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes files so that a crash at any instant leaves either the old or the new file, never half
 * of one: a temporary file in the same folder, fsync, rename over the target, fsync the folder.
 *
 * <p>A temporary file beside its target is named after the writing process
 * ({@code .NAME.p<pid>-<random>.tmp}); the first write into a folder by a process deletes those
 * that a killed process left there, so that no kill leaves one forever. (For the folders of a
 * home, which one machine's processes share; a registry's writes name a folder of their own.)
 */
public final class AtomicFile {
    private static final Pattern OURS = Pattern.compile("\\..+\\.p(\\d+)-\\d+\\.tmp");
    /** The names of earlier versions, without a process id: deleted once a day old. */
    private static final Pattern UNNAMED = Pattern.compile("\\..+\\.\\d+\\.tmp");
    private static final Set<Path> SWEPT = ConcurrentHashMap.newKeySet();

    private AtomicFile() {
    }

    /** Something that writes the new content. */
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    public static void write(Path target, byte[] data) throws IOException {
        write(target, out -> out.write(data));
    }

    /**
     * Writes {@code target} atomically, readable by its owner only (whatever the umask): for the
     * state of a home (lineage, caches, journals), which is nobody else's business.
     */
    public static void write(Path target, Content content) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        write(target, dir, content, false);
        sweepOnce(dir);
    }

    private static void sweepOnce(Path dir) {
        if (SWEPT.add(dir)) {
            sweepAbandoned(dir);
        }
    }

    /**
     * Deletes the temporary files in {@code dir} that a process no longer running left (killed
     * between creating and renaming them), and unnamed ones older than a day. Returns how many.
     */
    public static int sweepAbandoned(Path dir) {
        int n = 0;
        long dayAgo = System.currentTimeMillis() - TimeUnit.DAYS.toMillis(1);
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, ".*.tmp")) {
            for (Path p : s) {
                String name = p.getFileName().toString();
                Matcher m = OURS.matcher(name);
                boolean abandoned;
                if (m.matches()) {
                    long pid = Long.parseLong(m.group(1));
                    abandoned = LocalProcess.ended(pid);
                } else {
                    abandoned = UNNAMED.matcher(name).matches()
                            && Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis() < dayAgo;
                }
                if (abandoned && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && Files.deleteIfExists(p)) {
                    n++;
                }
            }
        } catch (IOException | NumberFormatException | java.nio.file.DirectoryIteratorException e) {
            // best effort: a stray temporary file is harmless, only untidy
        }
        return n;
    }

    /**
     * Like {@link #write(Path, Content)} with the temporary file in {@code tmpDir} (same file
     * system as the target): for folders whose every file other programs read as data, such as
     * a registry's pointer folders, where a crash must not leave a stray temporary file. The
     * file gets the permissions the umask gives a new file ({@link #createSharedTemp}): a
     * registry folder may be shared with other users, as quilt3 writes it.
     */
    public static void write(Path target, Path tmpDir, Content content) throws IOException {
        write(target, tmpDir, content, true);
    }

    private static void write(Path target, Path tmpDir, Content content, boolean shared) throws IOException {
        Files.createDirectories(target.toAbsolutePath().getParent());
        Files.createDirectories(tmpDir);
        Path tmp = shared ? createSharedTemp(tmpDir, target) : createTemp(tmpDir, target);
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                OutputStream out = Channels.newOutputStream(ch);
                content.writeTo(out);
                out.flush();
                ch.force(true);
            }
            moveIntoPlace(tmp, target);
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /**
     * New content of {@code target}, written and synced to a temporary file beside it but not in
     * place yet: {@link #commit} renames it over the target, {@link #discard} drops it. Lets the
     * slow part of a write (the sync) overlap other work, such as verifying the content.
     */
    public static final class Staged {
        private final Path tmp;
        private final Path target;

        private Staged(Path tmp, Path target) {
            this.tmp = tmp;
            this.target = target;
        }

        public void commit() throws IOException {
            try {
                moveIntoPlace(tmp, target);
            } catch (IOException | RuntimeException e) {
                discard();
                throw e;
            }
        }

        public void discard() {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // a stray temporary file is harmless: its name starts with a dot and ends in .tmp
            }
        }
    }

    /** Writes {@code data} for {@code target} into a synced temporary file beside it (see {@link Staged}). */
    public static Staged stage(Path target, byte[] data) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        sweepOnce(dir);
        Path tmp = createTemp(dir, target);
        Staged staged = new Staged(tmp, target);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            staged.discard();
            throw e;
        }
        return staged;
    }

    /** Longest part of the target's name kept in a temporary file's name, in UTF-8 bytes. */
    static final int TEMP_NAME_PART = 200;

    /**
     * Creates an empty temporary file for {@code target} in {@code dir}, named
     * {@code .NAME.pPID-RANDOM.tmp} (the writer's pid tells a sweep whether its writer still
     * runs). NAME is the target's name cut to {@value #TEMP_NAME_PART} UTF-8 bytes (at a
     * character boundary): a file name may be 255 bytes long, and a package key's last
     * component that long must not make its temporary name too long to create.
     */
    public static Path createTemp(Path dir, Path target) throws IOException {
        return createTemp(dir, target, new java.nio.file.attribute.FileAttribute<?>[0]);
    }

    private static Path createTemp(Path dir, Path target, java.nio.file.attribute.FileAttribute<?>[] attrs)
            throws IOException {
        String name = target.getFileName().toString();
        if (name.length() * 3 > TEMP_NAME_PART) {
            java.nio.charset.CharsetEncoder enc = java.nio.charset.StandardCharsets.UTF_8.newEncoder();
            java.nio.ByteBuffer room = java.nio.ByteBuffer.allocate(TEMP_NAME_PART);
            java.nio.CharBuffer in = java.nio.CharBuffer.wrap(name);
            enc.encode(in, room, true); // stops before the first character that does not fit
            name = name.substring(0, in.position());
        }
        return Files.createTempFile(dir, "." + name + ".p" + LocalProcess.PID + "-", ".tmp", attrs);
    }

    /** Read and write for everyone, less what the umask takes away: what any program's new file gets. */
    private static final java.nio.file.attribute.FileAttribute<?>[] UMASK_PERMISSIONS = {
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw-rw-"))};

    /**
     * {@link #createTemp}, with the permissions the umask gives a new file instead of a temporary
     * file's owner-only ones: for files other users read, such as a shared registry folder's
     * manifests and pointers (quilt3 writes them so).
     */
    public static Path createSharedTemp(Path dir, Path target) throws IOException {
        boolean posix = dir.getFileSystem().supportedFileAttributeViews().contains("posix");
        return createTemp(dir, target, posix ? UMASK_PERMISSIONS : new java.nio.file.attribute.FileAttribute<?>[0]);
    }

    /** Renames a finished, fsync'ed temp file over {@code target} and syncs the folder. */
    public static void moveIntoPlace(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + tmp + " to " + target + " atomically", e);
        }
        fsyncDir(target.toAbsolutePath().getParent());
    }

    /**
     * Creates {@code target} with {@code data} only if it does not exist (no replace). Returns
     * false when it already existed.
     */
    public static boolean createNew(Path target, byte[] data) throws IOException {
        return createNew(target, target.toAbsolutePath().getParent(), data, false);
    }

    /**
     * {@link #createNew(Path, byte[])} with the temporary file in {@code tmpDir} (on the same
     * file system), for targets in folders that other tools list: a registry's, so with the
     * umask's permissions as {@link #write(Path, Path, Content)}.
     */
    public static boolean createNew(Path target, Path tmpDir, byte[] data) throws IOException {
        return createNew(target, tmpDir, data, true);
    }

    private static boolean createNew(Path target, Path tmpDir, byte[] data, boolean shared) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Files.createDirectories(tmpDir);
        Path tmp = shared ? createSharedTemp(tmpDir, target) : createTemp(tmpDir, target);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(data));
                ch.force(true);
            }
            try {
                // A hard link fails if the target exists: an atomic create-if-absent.
                Files.createLink(target, tmp);
            } catch (FileAlreadyExistsException e) {
                return false;
            }
            fsyncDir(dir);
            return true;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static void fsyncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // Some file systems cannot sync a directory; the rename is still atomic.
        }
    }
}
