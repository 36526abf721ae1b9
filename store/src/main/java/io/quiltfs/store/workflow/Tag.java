package io.quiltfs.store.workflow;

import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.RegistryException;
import io.quiltfs.store.registry.Tags;
import java.io.IOException;

/** {@code tag}: names a pushed revision in the registry, or removes a name. */
public final class Tag {
    private Tag() {
    }

    /**
     * Points {@code tag} at {@code target} (a full hash, a unique prefix, or null for latest);
     * returns the full top hash tagged. The revision must exist in the registry. A tag that
     * already names another revision moves only with {@code force} (as {@code git tag -f}):
     * someone may rely on what it names.
     */
    public static String set(Registry registry, PackageName pkg, String tag, String target, boolean force)
            throws IOException {
        Tags.require(tag);
        String top;
        if (target == null) {
            top = registry.resolve(PackageRef.latest(pkg));
        } else if (target.indexOf('/') >= 0 || target.indexOf(':') >= 0 || target.indexOf('@') >= 0) {
            PackageRef ref = PackageRef.parse(target);
            if (!ref.name().equals(pkg)) {
                throw new IllegalArgumentException("'" + target + "' names a revision of " + ref.name() + ", not of "
                        + pkg + ": give a top hash, a prefix of one, or " + pkg + ":TAG");
            }
            top = registry.resolve(ref);
        } else if (!target.toLowerCase(java.util.Locale.ROOT).matches("[0-9a-f]{6,64}")) {
            throw new IllegalArgumentException("invalid revision '" + target + "' to tag: expected a top hash, a prefix"
                    + " of 6 to 64 hex digits, or " + pkg + ":TAG");
        } else {
            top = registry.resolve(PackageRef.parse(pkg + "@" + target));
        }
        if (force) {
            registry.setTag(pkg, tag, top);
            return top;
        }
        String current = registry.tag(pkg, tag);
        if (current == null) {
            // Set only if still absent: of two people tagging at once, one wins and the other is told.
            String now = registry.compareAndSetTag(pkg, tag, null, top);
            current = now == null || now.isEmpty() ? top : now;
        }
        if (!current.equals(top)) {
            throw new ConflictException("tag '" + tag + "' of " + pkg + " in " + registry.uri() + " already names "
                    + current + "; use --force to move it to " + top);
        }
        return top;
    }

    /**
     * Removes {@code tag} and returns the top hash it named (null for a damaged tag pointer, which
     * is removed whatever it holds); {@link RegistryException.NotFound} when there is no such tag.
     * Only the revision name read here is removed: a tag someone re-points meanwhile is left
     * alone, and the caller is told ({@link ConflictException}).
     */
    public static String delete(Registry registry, PackageName pkg, String tag) throws IOException {
        return delete(registry, pkg, tag, null);
    }

    /**
     * {@link #delete(Registry, PackageName, String)}, only if the tag names {@code expect} (a top
     * hash or a prefix of one, as its user saw it; null: whatever it names when read here).
     */
    public static String delete(Registry registry, PackageName pkg, String tag, String expect) throws IOException {
        Tags.require(tag);
        if (expect != null && !expect.matches("[0-9a-f]{6,64}")) {
            throw new IllegalArgumentException("invalid hash '" + expect + "': expected 6 to 64 hex digits");
        }
        String seen;
        try {
            seen = registry.tag(pkg, tag);
        } catch (RegistryException.BadPointer damaged) {
            if (expect != null) {
                throw damaged;
            }
            if (!registry.deleteTag(pkg, tag)) {
                throw notFound(registry, pkg, tag);
            }
            return null;
        }
        if (seen != null && expect != null && !seen.startsWith(expect)) {
            throw new ConflictException("tag '" + tag + "' of " + pkg + " in " + registry.uri() + " names " + seen
                    + ", not " + expect + "; it was not deleted");
        }
        String now = seen == null ? "" : registry.compareAndDeleteTag(pkg, tag, seen);
        if (now == null) {
            return seen;
        }
        if (now.isEmpty()) {
            throw notFound(registry, pkg, tag);
        }
        throw new ConflictException("tag '" + tag + "' of " + pkg + " in " + registry.uri() + " was moved from "
                + seen + " to " + now + " while deleting it; it was not deleted (run the delete again to remove it)");
    }

    private static RegistryException.NotFound notFound(Registry registry, PackageName pkg, String tag) {
        return new RegistryException.NotFound("no tag '" + tag + "' on " + pkg + " in " + registry.uri()
                + " (list tags with `quiltfs log " + pkg + "`)");
    }
}
