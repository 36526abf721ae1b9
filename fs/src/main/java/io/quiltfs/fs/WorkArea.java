package io.quiltfs.fs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.state.AtomicFile;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashSet;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A mounted package's working area on disk: the private copies of the files written through
 * the mount ({@code files/ID}) and the journal of changes to the tree ({@code journal}: one
 * JSON line per change, appended before the change is acknowledged), over the revision the
 * mount shows. In memory it is a sorted map from logical key to {@link Node}: a written file
 * ({@link Content}), a row moved from another key ({@link Moved}), a removed key ({@link
 * Gone}) or a folder created here ({@link Folder}); keys absent from the map are the base
 * revision's.
 *
 * <p>Durability: data and journal lines are written (not fsync'ed) before the kernel gets its
 * answer, so they survive the death of the process at any instant (the kernel holds them);
 * {@code fsync} forces both to the disk, with the names of the copies made since the last
 * one. Replaying the journal at the next mount gives the
 * same tree.
 *
 * <p>Threading: the map is concurrent; its changes are serialized by the caller ({@link
 * PackageFs}'s tree lock). A {@link Content}'s bytes are guarded by its own monitor; lock
 * order is tree lock, then content, then journal.
 */
public final class WorkArea implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(WorkArea.class);

    /** What the map holds for a key. */
    public sealed interface Node permits Content, Moved, Gone, Folder { }

    /** A removed key (hides the base's file or folder). Identity matters: each removal is new. */
    public static final class Gone implements Node { }

    /** A folder made through the mount (or kept while its files move or go). */
    public static final class Folder implements Node { }

    /** A base row shown at another key (a rename without copying); {@code top} is where the row comes from. */
    public record Moved(Entry entry, String top, String fromKey) implements Node { }

    /**
     * A file written through the mount: its bytes are {@code files/ID}. When a commit takes its
     * snapshot the content is frozen: the next change copies it to a new ID first, so the
     * snapshot's file never changes.
     */
    public final class Content implements Node {
        private long id;
        /** The key the content is at now (null once removed); journaled with every new ID. */
        String key;
        private FileChannel ch;
        private int handles;
        boolean frozen;
        /** Changes of its bytes, mtime or mode since it was made. */
        private long changes;
        /**
         * Its mtime was set ({@code utimens}) after its last write: a time somebody asked for
         * ({@code touch -d}, {@code cp -p}), which going back to the row at a close would lose.
         */
        private boolean timeSet;
        /**
         * A time was set since the last {@link #force}: fdatasync does not write a change of
         * the mtime alone, so that force is a full fsync.
         */
        private boolean timeUnforced;
        /** Set by {@link PackageFs}: what the key showed when this copy was made for it (null for a new file). */
        Object origin;

        Content(long id, String key) {
            this.id = id;
            this.key = key;
        }

        public synchronized long id() {
            return id;
        }

        public synchronized Path path() {
            return file(id);
        }

        synchronized void acquire() throws IOException {
            if (ch == null) {
                ch = FileChannel.open(file(id), StandardOpenOption.READ, StandardOpenOption.WRITE);
            }
            handles++;
        }

        synchronized void releaseHandle() throws IOException {
            if (--handles <= 0) {
                handles = 0;
                if (ch != null) {
                    ch.close();
                    ch = null;
                }
                deleteIfUnused(this);
            }
        }

        synchronized boolean open() {
            return handles > 0;
        }

        private FileChannel channel() throws IOException {
            if (ch == null) {
                ch = FileChannel.open(file(id), StandardOpenOption.READ, StandardOpenOption.WRITE);
            }
            return ch;
        }

        private void closeIfUnused() throws IOException {
            if (handles == 0 && ch != null) {
                ch.close();
                ch = null;
            }
        }

        /** Before any change: a frozen content moves to a fresh copy (the snapshot keeps the old file). */
        private void thaw() throws IOException {
            if (!frozen) {
                return;
            }
            long nid = nextId.incrementAndGet();
            Files.copy(file(id), file(nid));
            copiesMade.incrementAndGet();
            if (ch != null) {
                ch.close();
                ch = null;
            }
            id = nid;
            frozen = false;
            if (key != null) {
                logContent(key, nid);
            }
            if (handles > 0) {
                channel();
            }
        }

        public synchronized int read(long offset, ByteBuffer dst) throws IOException {
            FileChannel c = channel();
            int total = 0;
            while (dst.hasRemaining()) {
                int n = c.read(dst, offset + total);
                if (n < 0) {
                    break;
                }
                total += n;
            }
            closeIfUnused();
            return total;
        }

        /** Changes of its bytes, mtime or mode since it was made. */
        synchronized long changes() {
            return changes;
        }

        public synchronized int write(long offset, ByteBuffer src) throws IOException {
            changes++;
            timeSet = false;
            thaw();
            FileChannel c = channel();
            int total = 0;
            while (src.hasRemaining()) {
                total += c.write(src, offset + total);
            }
            closeIfUnused();
            return total;
        }

        public synchronized void truncate(long size) throws IOException {
            changes++;
            timeSet = false;
            if (size == 0 && frozen) {
                // Nothing of the old bytes survives: a fresh empty file, no copy (but the mode).
                boolean x = Files.getPosixFilePermissions(file(id)).contains(PosixFilePermission.OWNER_EXECUTE);
                long nid = nextId.incrementAndGet();
                Files.createFile(file(nid));
                copiesMade.incrementAndGet();
                if (ch != null) {
                    ch.close();
                    ch = null;
                }
                id = nid;
                frozen = false;
                if (x) {
                    setExecutable(true);
                }
                if (key != null) {
                    logContent(key, nid);
                }
                return;
            }
            thaw();
            FileChannel c = channel();
            if (size < c.size()) {
                c.truncate(size);
            } else if (size > c.size()) {
                c.write(ByteBuffer.allocate(1), size - 1);
            }
            closeIfUnused();
        }

        /** Size, mtime (seconds) and the execute bit in one stat. */
        public synchronized java.nio.file.attribute.PosixFileAttributes attributes() throws IOException {
            return Files.readAttributes(file(id), java.nio.file.attribute.PosixFileAttributes.class);
        }

        /** The execute bit lives in the working copy's own mode: it changes neither bytes nor mtime. */
        public synchronized void setExecutable(boolean x) throws IOException {
            changes++;
            Set<PosixFilePermission> p = new HashSet<>(Files.getPosixFilePermissions(file(id)));
            if (x) {
                p.add(PosixFilePermission.OWNER_EXECUTE);
                p.add(PosixFilePermission.GROUP_EXECUTE);
                p.add(PosixFilePermission.OTHERS_EXECUTE);
            } else {
                p.remove(PosixFilePermission.OWNER_EXECUTE);
                p.remove(PosixFilePermission.GROUP_EXECUTE);
                p.remove(PosixFilePermission.OTHERS_EXECUTE);
            }
            Files.setPosixFilePermissions(file(id), p);
        }

        public synchronized void setMtime(java.time.Instant mtime) throws IOException {
            changes++;
            thaw();
            Files.setLastModifiedTime(file(id), FileTime.from(mtime));
            timeSet = true;
            timeUnforced = true;
        }

        /**
         * Its stat as a hash cache keys it: the file's size and mtime, its ID for the inode and,
         * for the change stamp, this area's count of its changes. A user sets the mtime back
         * ({@code cp -p}, {@code touch -r}) and a rewrite keeps the file's inode, but every
         * change of the bytes counts; the session's random start keeps the stamps of two mounts
         * apart (the count starts again at each mount; the cache outlives it). Null when the
         * file is gone.
         */
        public synchronized io.quiltfs.store.workflow.WorkingFiles.FileStat fileStat() throws IOException {
            return AreaFiles.stat(file(id), id, session + changes);
        }

        /** Freezes it (as {@link WorkArea#freeze}) and returns the frozen file with its ID and change stamp. */
        synchronized AreaFiles.Copy freezeCopy() {
            frozen = true;
            return new AreaFiles.Copy(file(id), id, session + changes);
        }

        /** Whether its mtime was set after its last write (then it stays a copy at a close). */
        synchronized boolean timeSet() {
            return timeSet;
        }

        public synchronized void force() throws IOException {
            boolean metadata = timeUnforced;
            if (ch != null) {
                ch.force(metadata);
            } else {
                try (FileChannel c = FileChannel.open(file(id), StandardOpenOption.WRITE)) {
                    c.force(metadata);
                }
            }
            timeUnforced = false;
            if (metadata) {
                fullSyncs.incrementAndGet();
            }
            forceFolder();
            forceJournal();
        }
    }

    private final Path dir;
    private final Path files;
    private final Path journalFile;
    private final ConcurrentSkipListMap<String, Node> nodes = new ConcurrentSkipListMap<>();
    private final AtomicLong nextId = new AtomicLong();
    /**
     * Where this opening's change stamps start ({@link Content#fileStat}): random and far
     * below zero, so two mounts of the area never give one file the same stamp for other bytes.
     */
    private final long session = Long.MIN_VALUE / 2
            + (java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 3);
    /** Files made in {@code files/} so far, and how many of them the last folder sync covered. */
    private final AtomicLong copiesMade = new AtomicLong();
    /** Forces of a copy that wrote its metadata too (a time was set), for tests. */
    private final AtomicLong fullSyncs = new AtomicLong();
    private final Object folderSync = new Object();
    /** Guarded by folderSync. */
    private long copiesSynced;
    /** Syncs of {@code files/} done so far (guarded by folderSync). */
    private long folderSyncs;
    private final Object journalLock = new Object();
    /** Guarded by journalLock. */
    private FileChannel journal;
    /** Forces of the journal so far (guarded by journalLock). */
    private long journalSyncs;
    /**
     * Lines appended to the journal so far, and how many of them the last force covered
     * (guarded by journalLock): a force with nothing new to write is skipped, since it holds
     * journalLock, which every change of the tree waits for.
     */
    private long appended;
    private long appendedForced;

    private WorkArea(Path dir) {
        this.dir = dir;
        this.files = dir.resolve("files");
        this.journalFile = dir.resolve("journal");
    }

    /** Finds the manifest of a revision by top hash (to replay moved rows). */
    public interface Manifests {
        Manifest get(String top) throws IOException;
    }

    /** Opens (creating) the area at {@code dir}, replays its journal, compacts it and drops orphan copies. */
    public static WorkArea open(Path dir, Manifests manifests) throws IOException {
        WorkArea a = new WorkArea(dir);
        Files.createDirectories(a.files);
        boolean sound = a.replay(manifests);
        if (!sound) {
            a.keepUnjournaled();
        }
        a.compact();
        a.sweep(Set.of());
        return a;
    }

    /**
     * After a journal that could not be read whole (damaged, emptied, gone while copies remain):
     * the copies it no longer names may hold someone's saved edits, so they move to
     * {@code unjournaled/} in the area, where no sweep deletes them, instead of being dropped.
     */
    private void keepUnjournaled() throws IOException {
        Set<Long> used = new HashSet<>();
        for (Node n : nodes.values()) {
            if (n instanceof Content c) {
                used.add(c.id());
            }
        }
        Path kept = unjournaled(dir);
        int moved = 0;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(files)) {
            for (Path p : s) {
                long id;
                try {
                    id = Long.parseLong(p.getFileName().toString());
                } catch (NumberFormatException ignored) {
                    continue; // not ours
                }
                if (!used.contains(id)) {
                    Files.createDirectories(kept);
                    Path to = kept.resolve(p.getFileName() + "-" + System.currentTimeMillis());
                    Files.move(p, to, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                    moved++;
                }
            }
        }
        if (moved > 0) {
            log.warn("working area {}: its journal was damaged; {} working cop{} it does not name (saved edits whose"
                    + " file names were lost) {} kept in {}", dir, moved, moved == 1 ? "y" : "ies",
                    moved == 1 ? "is" : "are", kept);
        }
    }

    /**
     * Where the area at {@code dir} keeps the copies a damaged journal no longer named (never
     * deleted by quiltfs: the user looks at them and removes the folder).
     */
    public static Path unjournaled(Path dir) {
        return dir.resolve("unjournaled");
    }

    public Path dir() {
        return dir;
    }

    Path file(long id) {
        return files.resolve(Long.toString(id));
    }

    /** Replays the journal; false when it was not read whole (see {@link #keepUnjournaled}). */
    private boolean replay(Manifests manifests) throws IOException {
        long max = 0;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(files)) {
            for (Path p : s) {
                try {
                    max = Math.max(max, Long.parseLong(p.getFileName().toString()));
                } catch (NumberFormatException ignored) {
                    // not ours
                }
            }
        }
        nextId.set(max);
        if (!Files.exists(journalFile, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return max == 0; // copies without a journal: it was removed
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(journalFile);
        } catch (IOException e) {
            throw new io.quiltfs.store.state.StateException("cannot read the journal " + journalFile + " of a working"
                    + " area (" + (Files.isDirectory(journalFile) ? "it is a folder" : e.getMessage()) + "); quiltfs"
                    + " will not change the area: move the journal aside (the working copies it named are then"
                    + " kept in " + unjournaled(dir) + ")", e);
        }
        boolean sound = true;
        int n = 0;
        // Copies named by lines that no later line for their key replaced: a copy is deleted once
        // its file is removed or renamed and removed, so only a key's last line may name a
        // missing copy by mistake (said once, at the end).
        Map<String, Long> missing = new java.util.TreeMap<>();
        // (Decoded leniently: a damaged byte makes its line unreadable, not the whole journal.)
        for (String line : new String(bytes, StandardCharsets.UTF_8).split("\n")) {
            if (line.isEmpty()) {
                continue;
            }
            JsonNode j;
            try {
                j = Json.parse(line);
                if (!j.isObject()) {
                    throw new IllegalArgumentException("not an object");
                }
            } catch (RuntimeException torn) {
                log.warn("journal {}: ignoring a torn line after {} changes", journalFile, n);
                sound = false;
                break;
            }
            n++;
            String k = j.path("k").asText();
            missing.remove(k);
            switch (j.path("o").asText()) {
                case "f" -> {
                    long id = j.path("id").asLong();
                    if (Files.isRegularFile(file(id))) {
                        nodes.put(k, new Content(id, k));
                    } else {
                        missing.put(k, id);
                    }
                }
                case "b" -> {
                    String top = j.path("top").asText();
                    String from = j.path("from").asText();
                    Entry e = manifests.get(top).get(from);
                    if (e == null) {
                        log.warn("journal {}: '{}' is not in {}; '{}' is dropped", journalFile, from, top, k);
                    } else {
                        nodes.put(k, new Moved(e, top, from));
                    }
                }
                case "d" -> nodes.put(k, new Gone());
                case "m" -> nodes.put(k, new Folder());
                case "x" -> nodes.remove(k);
                default -> {
                    log.warn("journal {}: unknown change {}", journalFile, line);
                    sound = false;
                }
            }
        }
        missing.forEach((k, id) -> log.warn("journal {}: the working copy {} of '{}' is missing; the key keeps its"
                + " previous state", journalFile, id, k));
        log.info("working area {}: replayed {} changes ({} keys changed)", dir, n, nodes.size());
        return sound && (n > 0 || max == 0); // an emptied journal beside copies is damaged too
    }

    /**
     * Rewrites the journal as the current map (atomically) and reopens it for appending. The
     * caller holds the tree lock; a content that moved to a new copy meanwhile (its line went to
     * the old journal) is journaled again afterwards.
     */
    void compact() throws IOException {
        StringBuilder sb = new StringBuilder();
        Map<Content, Long> ids = new java.util.HashMap<>();
        for (Map.Entry<String, Node> e : nodes.entrySet()) {
            if (e.getValue() instanceof Content c) {
                ids.put(c, c.id());
            }
            sb.append(Json.MAPPER.writeValueAsString(record(e.getKey(), e.getValue()))).append('\n');
        }
        synchronized (journalLock) {
            if (journal != null) {
                journal.close();
            }
            AtomicFile.write(journalFile, sb.toString().getBytes(StandardCharsets.UTF_8));
            journal = FileChannel.open(journalFile, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            appendedForced = appended; // written whole and forced by the atomic write
        }
        for (Map.Entry<Content, Long> e : ids.entrySet()) {
            Content c = e.getKey();
            synchronized (c) {
                if (c.id != e.getValue() && c.key != null) {
                    logContent(c.key, c.id);
                }
            }
        }
    }

    private ObjectNode record(String k, Node n) {
        ObjectNode j = Json.object();
        if (n instanceof Content c) {
            j.put("o", "f").put("k", k).put("id", c.id());
        } else if (n instanceof Moved m) {
            j.put("o", "b").put("k", k).put("top", m.top()).put("from", m.fromKey());
        } else if (n instanceof Gone) {
            j.put("o", "d").put("k", k);
        } else {
            j.put("o", "m").put("k", k);
        }
        return j;
    }

    private void append(ObjectNode j) throws IOException {
        ByteBuffer b = ByteBuffer.wrap((Json.MAPPER.writeValueAsString(j) + "\n").getBytes(StandardCharsets.UTF_8));
        synchronized (journalLock) {
            if (journal == null) {
                throw new IOException("the working area " + dir + " is closed");
            }
            while (b.hasRemaining()) {
                journal.write(b);
            }
            appended++;
        }
    }

    private void logContent(String k, long id) throws IOException {
        append(Json.object().put("o", "f").put("k", k).put("id", id));
    }

    /**
     * Forces {@code files/}'s entries to the disk when copies were made since the last time: a
     * copy whose bytes are on the disk but whose name is not would be lost with the power.
     */
    void forceFolder() throws IOException {
        long made = copiesMade.get();
        synchronized (folderSync) {
            // A sync that began after this copy was made covers it; one under way may not have.
            if (copiesSynced >= made) {
                return;
            }
            long upTo = copiesMade.get();
            try (FileChannel dirChannel = FileChannel.open(files, StandardOpenOption.READ)) {
                dirChannel.force(true);
            }
            copiesSynced = upTo;
            folderSyncs++;
        }
    }

    /** How many forces of a copy were full fsyncs (a time set since the last one), not fdatasyncs. */
    long fullSyncs() {
        return fullSyncs.get();
    }

    /** How many times {@code files/} was synced (each copy's name is covered by one). */
    long folderSyncs() {
        synchronized (folderSync) {
            return folderSyncs;
        }
    }

    void forceJournal() throws IOException {
        synchronized (journalLock) {
            if (journal == null || appendedForced == appended) {
                return;
            }
            journal.force(false);
            appendedForced = appended;
            journalSyncs++;
        }
    }

    /** How many times the journal was forced to the disk. */
    long journalSyncs() {
        synchronized (journalLock) {
            return journalSyncs;
        }
    }

    /** Deletes working copies that no node and no open file uses (and none of {@code keep}). */
    void sweep(Set<Long> keep) throws IOException {
        Set<Long> used = new HashSet<>(keep);
        for (Node n : nodes.values()) {
            if (n instanceof Content c) {
                used.add(c.id());
            }
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(files)) {
            for (Path p : s) {
                try {
                    if (!used.contains(Long.parseLong(p.getFileName().toString()))) {
                        Files.deleteIfExists(p);
                    }
                } catch (NumberFormatException ignored) {
                    // not ours
                }
            }
        }
    }

    // The map (callers hold the tree lock for changes).

    public Node node(String k) {
        return nodes.get(k);
    }

    /** Every node strictly under folder {@code dir} ("" for the root). */
    NavigableMap<String, Node> under(String dir) {
        if (dir.isEmpty()) {
            return nodes;
        }
        return nodes.subMap(dir + "/", true, dir + "0", false); // '0' follows '/'
    }

    /** The ordered map itself (read-only use). */
    NavigableMap<String, Node> all() {
        return nodes;
    }

    boolean isEmpty() {
        return nodes.isEmpty();
    }

    /** Sets {@code k} to {@code n}, journaled first. */
    void put(String k, Node n) throws IOException {
        if (n instanceof Content c) {
            synchronized (c) {
                c.key = k;
                append(record(k, n));
            }
        } else {
            append(record(k, n));
        }
        Node old = nodes.put(k, n);
        if (old instanceof Content oc && oc != n) {
            orphan(oc, k);
        }
    }

    /** Back to the base's state for {@code k}. */
    void remove(String k) throws IOException {
        append(Json.object().put("o", "x").put("k", k));
        Node old = nodes.remove(k);
        if (old instanceof Content oc) {
            orphan(oc, k);
        }
    }

    /**
     * A content left key {@code k}: unless it moved on to another key, it has none now, and its
     * file goes as soon as no open file and no snapshot uses it (a replaced or removed file must
     * not hold disk space until the next commit).
     */
    private void orphan(Content c, String k) throws IOException {
        synchronized (c) {
            if (k.equals(c.key)) {
                c.key = null;
            }
            deleteIfUnused(c);
        }
    }

    /** Called holding the content's monitor. */
    private void deleteIfUnused(Content c) throws IOException {
        if (c.key == null && c.handles == 0 && !c.frozen) {
            if (c.ch != null) {
                c.ch.close();
                c.ch = null;
            }
            Files.deleteIfExists(file(c.id));
        }
    }

    /** Forgets {@code k} only if it still holds {@code n} (after a commit took it in). */
    boolean dropIfSame(String k, Node n) throws IOException {
        if (nodes.get(k) != n) {
            return false;
        }
        remove(k);
        return true;
    }

    /** A new empty file at {@code k}. */
    Content create(String k) throws IOException {
        long id = nextId.incrementAndGet();
        Files.createFile(file(id));
        copiesMade.incrementAndGet();
        Content c = new Content(id, k);
        put(k, c);
        return c;
    }

    /** A new empty file of the area (not in the tree yet: see {@link #adopt}). */
    Path newFile() throws IOException {
        Path p = file(nextId.incrementAndGet());
        Files.createFile(p);
        copiesMade.incrementAndGet();
        return p;
    }

    /** Puts a file made by {@link #newFile} at {@code k}. */
    Content adopt(String k, Path file) throws IOException {
        Content c = new Content(Long.parseLong(file.getFileName().toString()), k);
        put(k, c);
        return c;
    }

    /** Freezes a content for a snapshot (waits for a write in progress); returns its file. */
    Path freeze(Content c) {
        synchronized (c) {
            c.frozen = true;
            return file(c.id);
        }
    }

    /** Whether the content is still the frozen file {@code id} with no open file (safe to forget). */
    boolean unchangedSince(Content c, long id) {
        synchronized (c) {
            return c.frozen && c.id == id && c.handles == 0;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            forceFolder();
        } finally {
            synchronized (journalLock) {
                if (journal != null) {
                    try {
                        journal.force(false);
                    } finally {
                        journal.close();
                        journal = null;
                    }
                }
            }
        }
    }
}
