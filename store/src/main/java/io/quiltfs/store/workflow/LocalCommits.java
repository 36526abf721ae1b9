package io.quiltfs.store.workflow;

import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.ManifestReader;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.state.PackageState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The objects that local commits not yet pushed point to. Until a push uploads them, the object
 * cache may hold the only copy of such content (its working file can have been edited since),
 * so whatever trims the cache must leave them alone.
 */
public final class LocalCommits {
    private final Home home;
    /** The lineage file's identity (inode, size, mtime) when {@link #names} was computed. */
    private Object seen;
    private Set<String> names = Set.of();

    public LocalCommits(Home home) {
        this.home = home;
    }

    /**
     * Whether an unpushed local commit of any package of the home points to the cached object
     * {@code name}. The lineage is read again only when its file changed.
     */
    public synchronized boolean uses(String name) throws IOException {
        Object now = stamp(home.lineageFile());
        if (seen == null || !seen.equals(now)) {
            names = objectNames(home);
            seen = now;
        }
        return names.contains(name);
    }

    /** The names (in the home's objects folder) of every object an unpushed local commit points to. */
    public static Set<String> objectNames(Home home) throws IOException {
        Set<String> out = new HashSet<>();
        Path objects = home.objects();
        for (Map.Entry<String, PackageState> p : Lineage.read(home).all().entrySet()) {
            PackageName pkg = PackageName.parse(p.getKey());
            for (String top : p.getValue().commits) {
                Path manifest = home.installedManifest(pkg, top);
                try {
                    for (Entry e : ManifestReader.read(manifest).entries()) {
                        Path f = Push.local(e, objects);
                        if (f != null) {
                            out.add(f.getFileName().toString());
                        }
                    }
                } catch (NoSuchFileException e) {
                    throw new IOException("the local commit " + top + " of " + pkg + " has no manifest ("
                            + manifest + ")", e);
                }
            }
        }
        return out;
    }

    private static Object stamp(Path f) throws IOException {
        try {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            return java.util.List.of(String.valueOf(a.fileKey()), a.size(), a.lastModifiedTime().toMillis(),
                    a.lastModifiedTime().toInstant().getNano());
        } catch (NoSuchFileException e) {
            return "absent";
        }
    }
}
