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
        } else if (target.startsWith(pkg + ":") || target.startsWith(pkg + "@")) {
            top = registry.resolve(PackageRef.parse(target));
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

    /** Removes {@code tag}; {@link RegistryException.NotFound} when there is no such tag. */
    public static void delete(Registry registry, PackageName pkg, String tag) throws IOException {
        if (!registry.deleteTag(pkg, Tags.require(tag))) {
            throw new RegistryException.NotFound("no tag '" + tag + "' on " + pkg + " in " + registry.uri()
                    + " (list tags with `quiltfs log " + pkg + "`)");
        }
    }
}
