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
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The objects that local commits not yet pushed point to. Until a push uploads them, the object
 * cache may hold the only copy of such content (its working file can have been edited since),
 * so whatever trims the cache must leave them alone. A caller that deletes on the strength of
 * {@link #uses} holds the lineage lock ({@link Lineage#lockFile}) across the question and the
 * deletion, so that no commit records an object in between.
 */
public final class LocalCommits {
    private final Home home;
    /** The lineage file's content when {@link #names} was computed (null: no file). */
    private byte[] seen;
    private boolean computed;
    private Set<String> names = Set.of();
    /** Why the last computation failed (then every object counts as used), or null. */
    private IOException failure;
    /** Object names per local commit ({@code NS/NAME@TOPHASH}): an unpushed manifest never changes. */
    private final Map<String, Set<String>> perCommit = new HashMap<>();

    public LocalCommits(Home home) {
        this.home = home;
    }

    /**
     * Whether an unpushed local commit of any package of the home points to the cached object
     * {@code name}; true for every object when that cannot be told (the lineage or a commit's
     * manifest unreadable: {@link #failure()} says why). Reads the lineage file on each call, and
     * the manifests of commits it has not seen before only.
     */
    public synchronized boolean uses(String name) {
        byte[] now;
        try {
            now = Files.readAllBytes(home.lineageFile());
        } catch (NoSuchFileException e) {
            now = null;
        } catch (IOException e) {
            failure = e;
            computed = false;
            return true;
        }
        if (!computed || !Arrays.equals(seen, now)) {
            seen = now;
            computed = true;
            try {
                names = now == null ? Set.of() : objectNames(Lineage.parse(now, home.lineageFile()));
                failure = null;
            } catch (IOException | RuntimeException e) {
                failure = e instanceof IOException io ? io : new IOException(e.getMessage(), e);
            }
        }
        return failure != null || names.contains(name);
    }

    /** Why {@link #uses} could not tell at its last call, or null. */
    public synchronized IOException failure() {
        return failure;
    }

    private Set<String> objectNames(Lineage lineage) throws IOException {
        Set<String> out = new HashSet<>();
        Set<String> current = new HashSet<>();
        for (Map.Entry<String, PackageState> p : lineage.all().entrySet()) {
            PackageName pkg = PackageName.parse(p.getKey());
            for (String top : p.getValue().commits) {
                String id = pkg + "@" + top;
                current.add(id);
                Set<String> of = perCommit.get(id);
                if (of == null) {
                    of = objectNames(home, pkg, top);
                    perCommit.put(id, of);
                }
                out.addAll(of);
            }
        }
        perCommit.keySet().retainAll(current);
        return out;
    }

    /** The names of the objects in the home's cache that the local commit {@code top} of {@code pkg} points to. */
    static Set<String> objectNames(Home home, PackageName pkg, String top) throws IOException {
        Path manifest = home.installedManifest(pkg, top);
        Set<String> out = new HashSet<>();
        CachedObjects cached = new CachedObjects(home);
        try {
            for (Entry e : ManifestReader.read(manifest).entries()) {
                Path f = cached.of(e);
                if (f != null) {
                    out.add(f.getFileName().toString());
                }
            }
        } catch (NoSuchFileException e) {
            throw new IOException("the local commit " + top + " of " + pkg + " has no manifest (" + manifest + ")", e);
        }
        return out;
    }
}
