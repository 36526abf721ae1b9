package io.quiltfs.fs;

import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.Revision;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Assembles the core for one revision: reads and verifies its manifest, opens the home's
 * object cache under its size limit, and finds each object's source by physical key.
 */
public final class PackageMount {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PackageMount.class);

    private PackageMount() {
    }

    /** The file system of {@code pkg@topHash} in {@code registry}. The caller closes the store. */
    public static PackageFs open(Home home, Registry registry, S3Settings s3, PackageName pkg, String topHash,
                                 MountSettings settings) throws IOException {
        Manifest m = manifest(home, registry, pkg, topHash);
        return new PackageFs(m, pkg, topHash, revisionTime(registry, pkg, topHash), store(home, registry, s3, settings));
    }

    /**
     * The editable file system of {@code pkg}: its local head {@code topHash} (a local commit
     * or a revision of {@code registry}) under the working area {@code area} (replayed from
     * its journal). The caller holds the area's lock and closes the file system.
     */
    public static PackageFs openEditable(Home home, Registry registry, S3Settings s3, PackageName pkg, String topHash,
                                         MountSettings settings) throws IOException {
        Manifest m = manifest(home, registry, pkg, topHash);
        ObjectStore store = store(home, registry, s3, settings);
        WorkArea area;
        try {
            area = WorkArea.open(home.mountArea(pkg),
                    top -> io.quiltfs.store.workflow.InstalledPackage.manifest(home, pkg, registry.uri(), top, registry));
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
        return new PackageFs(m, pkg, topHash, revisionTime(registry, pkg, topHash), store, area);
    }

    /** The revision's manifest: verified once, then kept in the home (no fetch, no re-hash). */
    private static Manifest manifest(Home home, Registry registry, PackageName pkg, String topHash) throws IOException {
        long t0 = System.nanoTime();
        Manifest m = io.quiltfs.store.workflow.InstalledPackage.manifest(home, pkg, registry.uri(), topHash, registry);
        log.info("read the manifest of {}@{} ({} rows) in {} ms", pkg, topHash, m.size(),
                (System.nanoTime() - t0) / 1_000_000);
        return m;
    }

    /** The object store over the home's cache, fetching from the registry (or another source). */
    private static ObjectStore store(Home home, Registry registry, S3Settings s3, MountSettings settings)
            throws IOException {
        ObjectCache cache = new ObjectCache(home);
        sweepAbandonedFetches(home);
        CacheBudget budget = CacheBudget.open(home, settings.cacheBytes());
        ConcurrentHashMap<String, ObjectSource> bySource = new ConcurrentHashMap<>();
        return new ObjectStore(cache, budget, key -> sourceFor(key, registry, s3, bySource), settings.stallMillis());
    }

    private static ObjectSource sourceFor(PhysicalKey key, Registry registry, S3Settings s3,
                                          ConcurrentHashMap<String, ObjectSource> opened) {
        if (registry.canRead(key)) {
            return registry;
        }
        String id = key.isFile() ? "file" : "s3://" + key.bucket();
        return opened.computeIfAbsent(id, x -> {
            try {
                return Registries.sourceFor(key, registry, s3);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /**
     * Deletes partial fetches that a killed mount left in the cache's temporary folder. A day
     * old is abandoned: a live fetch that delivers nothing for 30 s is given up.
     */
    static void sweepAbandonedFetches(Home home) {
        long cutoff = System.currentTimeMillis() - java.util.concurrent.TimeUnit.DAYS.toMillis(1);
        try (java.nio.file.DirectoryStream<java.nio.file.Path> s =
                     java.nio.file.Files.newDirectoryStream(home.tmp(), "fetch*.part")) {
            for (java.nio.file.Path p : s) {
                if (java.nio.file.Files.getLastModifiedTime(p).toMillis() < cutoff) {
                    java.nio.file.Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            log.debug("cannot sweep {}: {}", home.tmp(), e.getMessage());
        }
    }

    /** The revision's time (its timestamp pointer), else now. */
    static long revisionTime(Registry registry, PackageName pkg, String topHash) {
        try {
            for (Revision r : registry.revisions(pkg)) {
                if (r.topHash().equals(topHash)) {
                    return r.timestamp();
                }
            }
        } catch (IOException | RuntimeException e) {
            // times are cosmetic: a registry that cannot list its pointers still mounts
        }
        return System.currentTimeMillis() / 1000;
    }
}
