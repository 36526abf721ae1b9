package io.quiltfs.store.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/** The kernel's mount table ({@code /proc/self/mountinfo}): which paths are mount points, of what. */
public final class MountTable {
    /** One mount: where, its file system type (e.g. {@code fuse.quiltfs}) and source. */
    public record Mount(Path mountpoint, String fsType, String source) {
        /** What the mount is, not where: "TYPE SOURCE" (stays the same when a disk is mounted again). */
        public String what() {
            return fsType + " " + source;
        }
    }

    private MountTable() {
    }

    public static List<Mount> read() throws IOException {
        List<Mount> out = new ArrayList<>();
        for (String line : Files.readAllLines(Paths.get("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            int dash = -1;
            for (int i = 6; i < f.length; i++) {
                if (f[i].equals("-")) {
                    dash = i;
                    break;
                }
            }
            if (f.length < 5 || dash < 0 || dash + 2 >= f.length) {
                continue;
            }
            out.add(new Mount(Paths.get(unescape(f[4])), f[dash + 1], unescape(f[dash + 2])));
        }
        return out;
    }

    /** The mount at exactly this path, or null (the last one when mounts are stacked). */
    public static Mount at(Path mountpoint) throws IOException {
        Path mp = mountpoint.toAbsolutePath().normalize();
        Mount found = null;
        for (Mount m : read()) {
            if (m.mountpoint().equals(mp)) {
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
        Path d = dir.toAbsolutePath().normalize();
        List<Path> out = new ArrayList<>();
        for (Mount m : read()) {
            if (m.mountpoint().startsWith(d) && !m.mountpoint().equals(d) && !out.contains(m.mountpoint())) {
                out.add(m.mountpoint());
            }
        }
        out.sort(java.util.Comparator.comparingInt(Path::getNameCount));
        return out;
    }

    /** mountinfo escapes space, tab, newline and backslash as octal. */
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
}
