package io.quiltfs.store.state;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** The kernel's mount table ({@code /proc/self/mountinfo}): which paths are mount points, of what. */
public final class MountTable {
    /** Where the table is read from. */
    static final Path MOUNTINFO = Paths.get("/proc/self/mountinfo");

    /**
     * One mount: where, its file system type (e.g. {@code fuse.quiltfs}) and source, the folder of
     * its file system it shows (field 4: "/" for a whole disk, the bound folder for a bind
     * mount) and that file system's device ({@code major:minor}, field 3); the mount's id and
     * the id of the mount it was made on (fields 1 and 2).
     */
    public record Mount(Path mountpoint, String fsType, String source, String root, String device, long id,
                        long parent) {
        /** What the mount is, for a message: "TYPE SOURCE" (and the folder it shows when not "/"). */
        public String what() {
            return fsType + " " + source + (root.equals("/") ? "" : " " + root);
        }

        /**
         * What the mount is, not where, as a record ({@link #record}): its device, the folder of it
         * shown, type and source. Two bind mounts of one disk differ by their root; two tmpfs by
         * their device. The same disk mounted again (after a reboot) is the same.
         */
        public String identity() {
            return device + " " + escape(root) + " " + escape(fsType) + " " + escape(source);
        }

        /**
         * "at MOUNTPOINT IDENTITY", what an install records of the mount holding its folder and an
         * uninstall compares. Records of older versions ("TYPE SOURCE") never equal one.
         */
        public String record() {
            return "at " + escape(mountpoint.toString()) + " " + identity();
        }
    }

    private MountTable() {
    }

    /**
     * Every mount, in the table's order (a mount stacked on another comes after it). Read as
     * bytes: a mount point whose name is not UTF-8 (anywhere on the system) is decoded with
     * U+FFFD for its bad bytes; such a path is never one quiltfs made or compares with.
     */
    public static List<Mount> read() throws IOException {
        byte[] all = Files.readAllBytes(MOUNTINFO);
        return parse(all);
    }

    /**
     * The mounts on {@code dir} (give its real path), below it or on a folder above it: every
     * mount {@link #at}, {@link #holding} and {@link #below} need for it and its subfolders (a
     * mount's parent, and any mount covering it, is on a folder at or above its mount point).
     * Cheaper than {@link #read} for a check repeated per folder: a line is parsed only when its
     * mount point field, as written, and {@code dir}'s are one a prefix of the other.
     */
    public static List<Mount> around(Path dir) throws IOException {
        String d = dir.toAbsolutePath().normalize().toString();
        boolean ascii = d.chars().allMatch(c -> c < 0x80);
        byte[] all = Files.readAllBytes(MOUNTINFO);
        // A name beyond ASCII may be written in another encoding than the JVM's: every line then.
        return parse(all, ascii ? escape(d).getBytes(StandardCharsets.US_ASCII) : null);
    }

    /** The mounts in the bytes of a mountinfo table. */
    static List<Mount> parse(byte[] all) {
        return parse(all, null);
    }

    /**
     * The mounts in the bytes of a mountinfo table; with {@code around} (an escaped path), only
     * those whose escaped mount point is a prefix of it or has it as a prefix.
     */
    static List<Mount> parse(byte[] all, byte[] around) {
        List<Mount> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= all.length; i++) {
            if (i == all.length || all[i] == '\n') {
                if (i > start && (around == null || near(all, start, i, around))) {
                    Mount m = line(new String(all, start, i - start, StandardCharsets.ISO_8859_1));
                    if (m != null) {
                        out.add(m);
                    }
                }
                start = i + 1;
            }
        }
        return out;
    }

    /** Whether the mount point field (the fifth) of the line from..to and {@code path} are one a prefix of the other. */
    private static boolean near(byte[] all, int from, int to, byte[] path) {
        int f = from;
        for (int spaces = 0; spaces < 4; f++) {
            if (f >= to) {
                return true; // not a mount line: parsed (and dropped) as before
            }
            if (all[f] == ' ') {
                spaces++;
            }
        }
        for (int k = 0; ; k++, f++) {
            boolean fieldEnds = f >= to || all[f] == ' ';
            if (fieldEnds || k == path.length) {
                return true; // one ended where the other still matched
            }
            if (all[f] != path[k]) {
                return false;
            }
        }
    }

    /** One line, held as ISO-8859-1 (one char per byte) until its fields are unescaped. */
    private static Mount line(String line) {
        String[] f = line.split(" ");
        int dash = -1;
        for (int i = 6; i < f.length; i++) {
            if (f[i].equals("-")) {
                dash = i;
                break;
            }
        }
        if (f.length < 5 || dash < 0 || dash + 2 >= f.length) {
            return null;
        }
        long id;
        long parent;
        try {
            id = Long.parseLong(f[0]);
            parent = Long.parseLong(f[1]);
        } catch (NumberFormatException notATable) {
            return null;
        }
        return new Mount(path(decode(f[4])), decode(f[dash + 1]), decode(f[dash + 2]), decode(f[3]), f[2], id,
                parent);
    }

    /** A mount point as a Path; where the JVM's encoding cannot hold a name, with '?' for what it cannot. */
    private static Path path(String s) {
        try {
            return Paths.get(s);
        } catch (java.nio.file.InvalidPathException notHere) {
            return Paths.get(s.replaceAll("[^\\x00-\\x7f]", "?"));
        }
    }

    /** A field of the table: octal escapes undone, then its bytes read as UTF-8 (bad bytes as U+FFFD). */
    private static String decode(String field) {
        String bytes = unescape(field);
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(ByteBuffer.wrap(bytes.getBytes(StandardCharsets.ISO_8859_1))).toString();
        } catch (java.nio.charset.CharacterCodingException cannot) {
            return bytes; // (REPLACE never throws)
        }
    }

    /** The mount at exactly this path, or null (the last one when mounts are stacked). */
    public static Mount at(Path mountpoint) throws IOException {
        return at(read(), mountpoint);
    }

    /**
     * The mounts of {@code mounts} whose files a path can reach: a mount is reached when the one
     * it was made on is and no other mount made on that one sits on a folder above its mount
     * point (made later: had it been made first, this one would have been made on it), and
     * shows its files unless another is stacked on it at its mount point. A mount covered so
     * stays in the table, out of reach. The tree is followed by ids (fields 1 and 2), not by the
     * table's order, which is not always the order of mounting. Mounts whose parent is not
     * listed (the root, mounts of a chroot) are reached.
     */
    public static List<Mount> visible(List<Mount> mounts) {
        java.util.Map<Long, List<Mount>> children = new java.util.HashMap<>();
        java.util.Set<Long> ids = new java.util.HashSet<>();
        for (Mount m : mounts) {
            ids.add(m.id());
        }
        List<Mount> roots = new ArrayList<>();
        for (Mount m : mounts) {
            if (m.parent() == m.id() || !ids.contains(m.parent())) {
                roots.add(m);
            } else {
                children.computeIfAbsent(m.parent(), k -> new ArrayList<>()).add(m);
            }
        }
        java.util.Set<Long> reached = new java.util.HashSet<>();
        java.util.ArrayDeque<Mount> todo = new java.util.ArrayDeque<>(roots);
        while (!todo.isEmpty()) {
            Mount m = todo.poll();
            if (!reached.add(m.id())) {
                continue; // (a table with a cycle)
            }
            List<Mount> kids = children.getOrDefault(m.id(), List.of());
            for (int i = 0; i < kids.size(); i++) {
                Mount k = kids.get(i);
                boolean covered = false;
                for (int j = 0; j < kids.size() && !covered; j++) {
                    Path other = kids.get(j).mountpoint();
                    covered = j != i && k.mountpoint().startsWith(other)
                            && (!other.equals(k.mountpoint()) || j > i);
                }
                if (!covered) {
                    todo.add(k);
                }
            }
        }
        List<Mount> out = new ArrayList<>(mounts.size());
        for (Mount m : mounts) {
            if (reached.contains(m.id()) && children.getOrDefault(m.id(), List.of()).stream()
                    .noneMatch(k -> k.mountpoint().equals(m.mountpoint()) && reached.contains(k.id()))) {
                out.add(m);
            }
        }
        return out;
    }

    /** The mount of {@code mounts} at exactly this path that the path shows, or null. */
    public static Mount at(List<Mount> mounts, Path mountpoint) {
        Path mp = mountpoint.toAbsolutePath().normalize();
        Mount found = null;
        for (Mount m : visible(mounts)) {
            if (m.mountpoint().equals(mp)) {
                found = m;
            }
        }
        return found;
    }

    /**
     * The mount whose file system holds {@code path} (give its real path): of the mounts not
     * covered ({@link #visible}), the one with the longest mount point that is {@code path} or
     * above it, or null when none is (a table without "/").
     */
    public static Mount holding(List<Mount> mounts, Path path) {
        Path p = path.toAbsolutePath().normalize();
        Mount found = null;
        for (Mount m : visible(mounts)) {
            if (p.startsWith(m.mountpoint())
                    && (found == null || m.mountpoint().getNameCount() >= found.mountpoint().getNameCount())) {
                found = m;
            }
        }
        return found;
    }

    /**
     * The mount points strictly below the folder {@code dir} (give its real path: the table holds
     * real paths), outermost first.
     */
    public static List<Path> below(Path dir) throws IOException {
        return below(read(), dir);
    }

    /** The reachable mount points of {@code mounts} strictly below the folder {@code dir}, outermost first. */
    public static List<Path> below(List<Mount> mounts, Path dir) {
        Path d = dir.toAbsolutePath().normalize();
        List<Path> out = new ArrayList<>();
        for (Mount m : visible(mounts)) {
            if (m.mountpoint().startsWith(d) && !m.mountpoint().equals(d) && !out.contains(m.mountpoint())) {
                out.add(m.mountpoint());
            }
        }
        out.sort(java.util.Comparator.comparingInt(Path::getNameCount));
        return out;
    }

    /**
     * mountinfo escapes space, tab, newline and backslash as octal. The result holds one char
     * per escaped byte (a name's UTF-8 bytes as given: {@link #read} decodes them after).
     */
    public static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                try {
                    sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException ignored) {
                    // not an escape: keep the backslash
                }
            }
            sb.append(c);
        }
        return sb.toString();
    }

    /** The inverse of {@link #unescape} for a record: space, tab, newline and backslash as octal. */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
                sb.append(String.format("\\%03o", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}
