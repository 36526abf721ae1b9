package io.quiltfs.store.workflow;

import java.nio.file.FileSystems;
import java.nio.file.PathMatcher;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * Which logical keys a partial install covers: a glob ({@code *} within a folder, {@code **}
 * across folders, as in {@code java.nio}'s globs) or a folder, which covers everything under
 * it. No globs at all means every key. Immutable.
 */
public final class PathFilter {
    private final List<String> globs;
    private final List<PathMatcher> matchers = new ArrayList<>();

    /** {@code globs} null or empty: every key. */
    public PathFilter(List<String> globs) {
        this.globs = globs == null ? null : List.copyOf(globs);
        if (this.globs != null) {
            for (String g : this.globs) {
                try {
                    matchers.add(FileSystems.getDefault().getPathMatcher("glob:" + g));
                } catch (java.util.regex.PatternSyntaxException e) {
                    throw new IllegalArgumentException("invalid --path glob '" + g + "': " + e.getDescription()
                            + (e.getIndex() >= 0 ? " at character " + (e.getIndex() + 1) : ""));
                }
            }
        }
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

    static boolean matches(String glob, PathMatcher m, String key) {
        String g = glob.endsWith("/") ? glob.substring(0, glob.length() - 1) : glob;
        if (key.equals(g) || key.startsWith(g + "/")) {
            return true;
        }
        try {
            return m.matches(Paths.get(key));
        } catch (java.nio.file.InvalidPathException e) {
            return false;
        }
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
        for (String g : more) {
            if (!u.contains(g)) {
                u.add(g);
            }
        }
        return new PathFilter(u);
    }
}
