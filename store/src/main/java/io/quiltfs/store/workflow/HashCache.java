package io.quiltfs.store.workflow;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.state.AtomicFile;
import io.quiltfs.store.workflow.WorkingFiles.FileStat;
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
 * The status hash cache of one working folder: per logical key, the stat (size, mtime, inode, change stamp)
 * of the file when it was last hashed, and that hash. A file whose stat is unchanged is not
 * re-hashed. One line per key ({@code size ino mtime stamp type value key}), written atomically; an
 * unreadable cache is simply empty (it only costs re-hashing). Thread-safe.
 *
 * <p>Version 2 added the change stamp (a ctime; see {@link FileStat}): a version 1 cache, whose
 * lines cannot say whether the bytes changed since (a same-size rewrite with its mtime set
 * back), is read as empty, so every file is hashed again once.
 *
 * <p>Racy entries (git's Documentation/technical/racy-git.txt): the kernel stamps a change with
 * a coarse clock that ticks every few milliseconds, so a second write within the tick of the
 * first (same size, mtime set back) keeps every field of the stat. A hash is therefore trusted
 * only when the file's change stamp is at least a tick older than the moment its bytes were
 * read ({@link #put(String, FileStat, Checksum, long)}), or, for what a command wrote itself
 * ({@link #put(String, FileStat, Checksum)}), than the moment the cache is saved: a save waits
 * out a short remainder of the tick and otherwise leaves the entry out, to be hashed again. A
 * file older than a tick (the common case) costs a comparison of two numbers. A stamp with no
 * fraction of a second comes from a file system of whole-second times, whose tick is 2 s (plus
 * the fine tick, for the coarse clock's lag). The rule compares the file system's stamps with
 * this machine's clock: it assumes they agree (see {@link #racy}).
 *
 * <p>The cache may also be marked clean for a head revision and install paths: then its keys
 * were exactly the working files and each matched that revision's row. A later scan finding the
 * very same keys and stats needs neither hashing nor the manifest. Any change clears the mark.
 */
public final class HashCache {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HashCache.class);
    private static final String MAGIC = "quiltfs-hashcache 2";

    /** One cached hash and the stat it was computed for. */
    record Item(FileStat stat, Checksum hash) {
    }

    /**
     * The tick of the file clock assumed for a stamp with a fraction of a second: the kernel's
     * coarse clock ticks every 1 to 10 ms (CONFIG_HZ 1000 to 100) and may lag the real time by
     * one tick, hence twice the longest.
     */
    static final long TICK_NANOS = 20_000_000L;
    /**
     * The tick assumed for a stamp of whole seconds (ext4 with small inodes, FAT's 2 s mtime),
     * to which the fine tick is added: the coarse clock's lag behind the real time.
     */
    static final long COARSE_TICK_NANOS = 2_000_000_000L;
    /** Whether this process has said that a working folder's clock is ahead of its own. */
    private static final java.util.concurrent.atomic.AtomicBoolean TOLD_AHEAD =
            new java.util.concurrent.atomic.AtomicBoolean();

    private final Path file;
    private final Map<String, Item> items;
    private final java.util.function.LongSupplier clock;
    private final long tick;
    private volatile boolean dirty;
    private volatile String clean;
    /** Whether a change stamp more than a tick ahead of this machine's clock was seen (tests). */
    private volatile boolean sawAhead;

    private HashCache(Path file, int capacity, java.util.function.LongSupplier clock, long tick) {
        this.file = file;
        this.items = new ConcurrentHashMap<>(capacity);
        this.clock = clock;
        this.tick = tick;
    }

    /** The wall clock in nanoseconds since the epoch, the base the kernel's ctime uses. */
    private static long wallNanos() {
        java.time.Instant t = java.time.Instant.now();
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    /** How many keys it holds. */
    public int size() {
        return items.size();
    }

    /** Reads the cache at {@code file} (empty when absent or unreadable). */
    public static HashCache load(Path file) {
        return load(file, HashCache::wallNanos, TICK_NANOS);
    }

    /** {@link #load(Path)} with another clock (nanoseconds since the epoch) and tick, for tests. */
    static HashCache load(Path file, java.util.function.LongSupplier clock, long tick) {
        byte[] b;
        try {
            b = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return new HashCache(file, 16, clock, tick);
        } catch (IOException e) {
            return unreadable(file, clock, tick);
        }
        // Parsed straight from the bytes (a status of 100,000 unchanged files is mostly this
        // and the scan): about 110 bytes per line, so the map is sized once.
        HashCache c = new HashCache(file, b.length / 64 + 16, clock, tick);
        try {
            int nl = indexOf(b, (byte) '\n', 0);
            if (nl < 0 || !MAGIC.equals(new String(b, 0, nl, StandardCharsets.UTF_8))) {
                c.dirty = true; // another version: rewritten in this one
                return c;
            }
            // Key lines start with a digit (the size), so the optional mark line is unambiguous.
            for (int at = nl + 1; at < b.length; ) {
                int end = indexOf(b, (byte) '\n', at);
                if (end < 0) {
                    end = b.length;
                }
                if (b[at] == 'c' && c.clean == null && c.items.isEmpty() && startsWith(b, at, CLEAN)) {
                    c.clean = new String(b, at + CLEAN.length, end - at - CLEAN.length, StandardCharsets.UTF_8);
                } else {
                    c.parse(b, at, end);
                }
                at = end + 1;
            }
        } catch (RuntimeException e) {
            return unreadable(file, clock, tick);
        }
        return c;
    }

    private static final byte[] CLEAN = "clean ".getBytes(StandardCharsets.US_ASCII);

    private static HashCache unreadable(Path file, java.util.function.LongSupplier clock, long tick) {
        HashCache c = new HashCache(file, 16, clock, tick);
        c.dirty = true;
        return c;
    }

    private static int indexOf(byte[] b, byte x, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == x) {
                return i;
            }
        }
        return -1;
    }

    private static boolean startsWith(byte[] b, int at, byte[] prefix) {
        if (b.length - at < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b[at + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /** One line {@code size ino mtime stamp type value key} in {@code b[at, end)}; a malformed one is skipped. */
    private void parse(byte[] b, int at, int end) {
        int[] f = new int[6];
        int p = at;
        for (int i = 0; i < 6; i++) {
            p = indexOf(b, (byte) ' ', p);
            if (p < 0 || p >= end) {
                return;
            }
            f[i] = p++;
        }
        FileStat st = new FileStat(number(b, at, f[0]), number(b, f[1] + 1, f[2]), number(b, f[0] + 1, f[1]),
                number(b, f[2] + 1, f[3]));
        HashType type = HashType.fromWire(new String(b, f[3] + 1, f[4] - f[3] - 1, StandardCharsets.US_ASCII));
        if (type == null) {
            return;
        }
        String value = new String(b, f[4] + 1, f[5] - f[4] - 1, StandardCharsets.US_ASCII);
        String key = unescape(new String(b, f[5] + 1, end - f[5] - 1, StandardCharsets.UTF_8));
        items.put(key, new Item(st, Checksum.of(type, value)));
    }

    /** A decimal number (optionally negative) in {@code b[from, to)}. */
    private static long number(byte[] b, int from, int to) {
        if (from >= to) {
            throw new NumberFormatException("empty number");
        }
        boolean neg = b[from] == '-';
        long v = 0;
        for (int i = neg ? from + 1 : from; i < to; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) {
                throw new NumberFormatException("not a number");
            }
            v = v * 10 + d;
        }
        return neg ? -v : v;
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
     * {@code files} holds exactly its keys with the same stats. Checked during a scan, without
     * collecting it; the scan stops at the first file that differs.
     */
    public boolean stillClean(String head, PathFilter filter, WorkingFiles files) throws IOException {
        if (!markedClean(head, filter)) {
            return false;
        }
        java.util.concurrent.atomic.LongAdder seen = new java.util.concurrent.atomic.LongAdder();
        java.util.concurrent.atomic.AtomicBoolean differs = new java.util.concurrent.atomic.AtomicBoolean();
        files.scan((key, stat) -> {
            Item it = items.get(key);
            if (it == null || !it.stat.equals(stat)) {
                differs.set(true);
                return false;
            }
            seen.increment();
            return true;
        });
        return !differs.get() && seen.sum() == items.size();
    }

    private boolean markedClean(String head, PathFilter filter) {
        return clean != null && clean.equals(head + " " + filterId(filter));
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

    /** The cache's clock: nanoseconds since the epoch. Read before the bytes of a file are, for {@link #put(String, FileStat, Checksum, long)}. */
    public long now() {
        return clock.getAsLong();
    }

    /**
     * Whether a file whose stat is {@code stat} may still have changed after {@code moment}
     * (nanoseconds since the epoch) without its change stamp moving: its stamp is not a tick
     * older than that moment.
     */
    boolean racy(FileStat stat, long moment) {
        long stamp = stat.changeStamp();
        if (stamp > moment + tickOf(stamp)) {
            clockAhead(stamp - moment);
        }
        return stamp > moment - tickOf(stamp);
    }

    /**
     * The rule compares the file system's change stamps with this machine's clock, so it assumes
     * they agree. A stamp ahead of the clock (a network file system whose server's clock is ahead)
     * says they do not: said once per run, since every file changed within that lead is hashed
     * again at each status meanwhile. A server clock behind ours cannot be seen this way (its
     * stamps look old), and leaves the race open by that much.
     */
    private void clockAhead(long byNanos) {
        sawAhead = true;
        if (TOLD_AHEAD.compareAndSet(false, true)) {
            log.warn("a working file's change time is {} ms ahead of this machine's clock (hash cache {}): its"
                    + " folder is on a file system whose clock is ahead, as a network share's server can be; files"
                    + " changed within that lead are hashed again at every status until it has passed (set both"
                    + " clocks right, e.g. with NTP)", byNanos / 1_000_000, file);
        }
    }

    /** Whether a change stamp more than a tick ahead of this machine's clock was seen (tests). */
    boolean sawClockAhead() {
        return sawAhead;
    }

    private long tickOf(long stamp) {
        return stamp % 1_000_000_000L == 0 ? COARSE_TICK_NANOS + tick : tick;
    }

    /**
     * Records the hash of bytes first read at {@code readSince} (from {@link #now()}) of a file
     * whose stat was {@code stat} before and after: only when the stat is not racy at that
     * moment (else a write within the same tick, after the read, would keep the stat). Returns
     * whether it was recorded.
     */
    public boolean put(String key, FileStat stat, Checksum hash, long readSince) {
        if (racy(stat, readSince)) {
            return false;
        }
        put(key, stat, hash);
        return true;
    }

    /**
     * Records the hash of a file this command has just written (the bytes are known): checked
     * against the moment of {@link #save()}.
     */
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

    /**
     * Writes the cache when it changed. A cache that cannot be written (a full disk, a folder in
     * its place) only costs re-hashing later: never a failure of the command, which by then has
     * done its work (a commit has recorded its revision).
     */
    public void save() {
        if (!dirty) {
            return;
        }
        try {
            dropRacy();
            write();
            dirty = false;
        } catch (IOException | RuntimeException e) {
            log.warn("cannot save the hash cache {} ({}); files will be hashed again until it can be", file,
                    e.getMessage());
        }
    }

    /**
     * Git's rule at the moment the cache is recorded: an entry whose stamp is within a tick of
     * now could change again without its stamp moving. When the tick's rest is short the save
     * waits it out (a status right after an install need not hash what the install wrote);
     * otherwise (a stamp from a clock ahead of ours) the entry is left out.
     */
    private void dropRacy() {
        long now = now();
        long wait = 0;
        boolean far = false;
        for (Item it : items.values()) {
            if (racy(it.stat, now)) {
                long rest = it.stat.changeStamp() + tickOf(it.stat.changeStamp()) - now + 1;
                if (rest <= tick) {
                    wait = Math.max(wait, rest);
                } else {
                    far = true;
                }
            }
        }
        if (far && items.values().removeIf(it -> racy(it.stat, now)
                && it.stat.changeStamp() + tickOf(it.stat.changeStamp()) - now + 1 > tick)) {
            clean = null;
        }
        if (wait > 0) {
            try {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (items.values().removeIf(it -> racy(it.stat, now))) {
                    clean = null;
                }
            }
        }
    }

    private void write() throws IOException {
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
                w.write(Long.toString(it.stat.changeStamp()));
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
