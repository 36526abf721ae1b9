package io.quiltfs.store.state;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.PackageName;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * The lineage file ({@code .quilt/data.json}): per installed package, its {@link PackageState}.
 * Reads are lock-free (the file is replaced atomically); {@link #update} holds the home's
 * lineage lock across read-modify-write so that no process loses another's update. A corrupt
 * file is reported and never overwritten. Fields a newer quiltfs added are read past (see
 * {@link PackageState}); a newer {@link #VERSION} is refused as written by a newer quiltfs.
 */
public final class Lineage {
    static final int VERSION = 1;

    private final Map<String, PackageState> packages;

    private Lineage(Map<String, PackageState> packages) {
        this.packages = packages;
    }

    /** The state of one package, or null when it is not installed. */
    public PackageState get(PackageName pkg) {
        PackageState s = packages.get(pkg.toString());
        return s == null ? null : s.copy();
    }

    public void put(PackageName pkg, PackageState state) {
        packages.put(pkg.toString(), state.copy());
    }

    public boolean remove(PackageName pkg) {
        return packages.remove(pkg.toString()) != null;
    }

    public Map<String, PackageState> all() {
        Map<String, PackageState> out = new TreeMap<>();
        packages.forEach((k, v) -> out.put(k, v.copy()));
        return out;
    }

    /** Reads the lineage of a home (empty when there is none yet). */
    public static Lineage read(Home home) throws IOException {
        Path f = home.lineageFile();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(f);
        } catch (NoSuchFileException e) {
            return new Lineage(new TreeMap<>());
        } catch (IOException e) {
            String why = Files.isDirectory(f) ? "it is a folder" : Json.firstLine(e.toString());
            throw new StateException("cannot read the lineage file " + f + " (" + why
                    + "); quiltfs will not overwrite it: repair it or move it aside", e);
        }
        return parse(bytes, f);
    }

    /** The lineage in {@code bytes}, the content of the lineage file {@code f} (named in errors). */
    public static Lineage parse(byte[] bytes, Path f) throws IOException {
        try {
            JsonNode root = Json.MAPPER.readTree(bytes);
            if (root == null || !root.isObject() || !root.path("packages").isObject()) {
                throw new IOException("expected an object with \"packages\"");
            }
            int v = root.path("version").asInt(-1);
            if (v > VERSION) {
                throw new StateException("the lineage file " + f + " was written by a newer quiltfs (lineage version "
                        + v + "; this one reads version " + VERSION + "): use that quiltfs or a newer one with this"
                        + " home; quiltfs will not overwrite it");
            }
            if (v != VERSION) {
                throw new IOException("unknown lineage version " + root.path("version"));
            }
            Map<String, PackageState> pk = Json.MAPPER.convertValue(root.get("packages"),
                    new TypeReference<TreeMap<String, PackageState>>() { });
            for (var e : pk.entrySet()) {
                if (!root.get("packages").path(e.getKey()).has("globSyntax")) {
                    e.getValue().globSyntax = 0; // written before globs had a syntax version
                }
                e.getValue().upgrade();
            }
            return new Lineage(pk);
        } catch (StateException e) {
            throw e;
        } catch (IOException | IllegalArgumentException e) {
            throw new StateException("the lineage file " + f + " is corrupt (" + Json.firstLine(e.getMessage())
                    + "); quiltfs will not overwrite it: repair it or move it aside", e);
        }
    }

    /**
     * The lock every change of the lineage holds; whoever must see the lineage unchanged while
     * it acts (deleting an object only if no local commit uses it) holds it too.
     */
    public static Path lockFile(Home home) {
        return home.locks().resolve("lineage.lock");
    }

    /** A function of the lineage that may change it. */
    public interface Change<T> {
        T apply(Lineage lineage) throws IOException;
    }

    /** Reads, applies {@code change} and writes back atomically, all under the lineage lock. */
    public static <T> T update(Home home, Change<T> change) throws IOException {
        home.ensure();
        try (HomeLock lock = HomeLock.acquire(lockFile(home))) {
            Lineage l = read(home);
            T result = change.apply(l);
            l.write(home);
            return result;
        }
    }

    private void write(Home home) throws IOException {
        var root = Json.object();
        root.put("version", VERSION);
        root.set("packages", Json.MAPPER.valueToTree(packages));
        AtomicFile.write(home.lineageFile(), Json.pretty(root).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
