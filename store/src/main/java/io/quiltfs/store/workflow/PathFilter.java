package io.quiltfs.store.workflow;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * Which logical keys a partial install covers: a glob ({@code *} within a folder, {@code **}
 * across folders, as in {@code java.nio}'s globs, except that {@code **}{@code /} also matches
 * no folder at all, as in gitignore and shells' globstar: {@code **}{@code /*.csv} covers
 * {@code a.csv} too), a folder, which covers everything under it, or a key spelled as it is
 * (metacharacters and all). No globs at all means every key. A leading {@code ./} is dropped
 * (a key is relative to the package's root). Immutable.
 */
public final class PathFilter {
    /** At most this many {@code **}{@code /} of one glob may match no folder (2^n matchers). */
    private static final int OPTIONAL_FOLDERS = 4;

    private final List<String> globs;
    /** Per glob, its matchers: the glob itself and its spellings without some {@code **}{@code /}. */
    private final List<List<PathMatcher>> matchers = new ArrayList<>();

    /** {@code globs} null or empty: every key. */
    public PathFilter(List<String> globs) {
        this.globs = globs == null ? null : globs.stream().map(PathFilter::normalize).toList();
        if (this.globs != null) {
            for (String g : this.globs) {
                List<PathMatcher> ms = new ArrayList<>();
                for (String v : spellings(g)) {
                    try {
                        ms.add(FileSystems.getDefault().getPathMatcher("glob:" + v));
                    } catch (java.util.regex.PatternSyntaxException e) {
                        // The JDK's descriptions leave their quotes open ("Missing ']"), and place
                        // what is missing at the glob's end, which says nothing.
                        String what = e.getDescription();
                        boolean missing = what.matches("Missing '.");
                        what = missing ? "missing " + what.substring(8) + "'" : what;
                        throw new IllegalArgumentException("invalid --path glob '" + g + "': " + what
                                + (!missing && e.getIndex() >= 0 && v.equals(g) ? " at character " + (e.getIndex() + 1) : "")
                                + " (escape a literal *, ?, [, ], {, } or \\ with \\)");
                    }
                }
                matchers.add(ms);
            }
        }
    }

    /** {@code g} without a leading {@code ./}; refuses an empty glob, which could only confuse. */
    private static String normalize(String g) {
        String n = g;
        while (n.startsWith("./")) {
            n = n.substring(2);
        }
        if (n.isEmpty() || n.equals(".")) {
            throw new IllegalArgumentException("invalid --path glob '" + g + "': it names no key (give a key, a"
                    + " folder or a glob such as 'data/**'; without --path every key is installed)");
        }
        return n;
    }

    /**
     * {@code g} and its spellings with some of its first {@link #OPTIONAL_FOLDERS} {@code **}{@code /}
     * (at the start or after a '/', so never an escaped one) left out.
     */
    static List<String> spellings(String g) {
        List<Integer> at = new ArrayList<>();
        for (int i = g.indexOf("**/"); i >= 0 && at.size() < OPTIONAL_FOLDERS; i = g.indexOf("**/", i + 1)) {
            if (i == 0 || g.charAt(i - 1) == '/') {
                at.add(i);
            }
        }
        List<String> out = new ArrayList<>();
        for (int mask = 0; mask < 1 << at.size(); mask++) {
            StringBuilder b = new StringBuilder(g.length());
            int from = 0;
            for (int j = 0; j < at.size(); j++) {
                if ((mask & 1 << j) != 0) {
                    b.append(g, from, at.get(j));
                    from = at.get(j) + 3;
                }
            }
            out.add(b.append(g, from, g.length()).toString());
        }
        return out;
    }

    public static final PathFilter ALL = new PathFilter(null);

    public boolean all() {
        return globs == null || globs.isEmpty();
    }

    /** The globs, or null for every key. */
    public List<String> globs() {
        return all() ? null : globs;
    }

    public boolean matches(String key) {
        if (all()) {
            return true;
        }
        for (int i = 0; i < globs.size(); i++) {
            if (matches(globs.get(i), matchers.get(i), key)) {
                return true;
            }
        }
        return false;
    }

    static boolean matches(String glob, List<PathMatcher> ms, String key) {
        String g = glob.endsWith("/") ? glob.substring(0, glob.length() - 1) : glob;
        if (key.equals(g) || key.startsWith(g + "/")) {
            return true;
        }
        Path p;
        try {
            p = Paths.get(key);
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
        for (PathMatcher m : ms) {
            if (m.matches(p)) {
                return true;
            }
        }
        return false;
    }

    /** This filter widened by {@code more} (null or empty {@code more} with an empty filter: all). */
    public PathFilter union(List<String> more) {
        if (all()) {
            return this;
        }
        if (more == null || more.isEmpty()) {
            return ALL;
        }
        List<String> u = new ArrayList<>(globs);
        for (String given : more) {
            String g = normalize(given);
            if (!u.contains(g)) {
                u.add(g);
            }
        }
        return new PathFilter(u);
    }
}
