package io.quiltfs.fs;

import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.ObjectSource;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Assembles the core for one revision: reads and verifies its manifest, opens the home's
 * object cache under its size limit, and finds each object's source by physical key. The cache
 * and the revision's time are opened on other threads while the manifest is read.
 */
public final class PackageMount {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PackageMount.class);

    private PackageMount() {
    }

    /** The file system of {@code pkg@topHash} in {@code registry}. The caller closes the store. */
    public static PackageFs open(Home home, Registry registry, S3Settings s3, PackageName pkg, String topHash,
                                 MountSettings settings) throws IOException {
        Opening o = new Opening(home, registry, s3, pkg, topHash, settings);
        Manifest m = o.manifest();
        return new PackageFs(m, pkg, topHash, o.revisionTime(), o.store());
    }

    /**
     * The editable file system of {@code pkg}: its local head {@code topHash} (a local commit
     * or a revision of {@code registry}) under the working area {@code area} (replayed from
     * its journal). The caller holds the area's lock and closes the file system.
     */
    public static PackageFs openEditable(Home home, Registry registry, S3Settings s3, PackageName pkg, String topHash,
                                         MountSettings settings) throws IOException {
        Opening o = new Opening(home, registry, s3, pkg, topHash, settings);
        Manifest m = o.manifest();
        ObjectStore store = o.store();
        WorkArea area;
        try {
            area = WorkArea.open(home.mountArea(pkg),
                    top -> io.quiltfs.store.workflow.InstalledPackage.manifest(home, pkg, registry.uri(), top, registry));
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
        return new PackageFs(m, pkg, topHash, o.revisionTime(), store, area);
    }

    /**
     * What opening a revision waits for: the object store (the cache's size scan) and the
     * revision's time (a HEAD of its manifest) are obtained on other threads while this one
     * reads the manifest, the long part. {@link #manifest} first; on its failure the store is
     * closed once open.
     */
    private static final class Opening {
        private final Home home;
        private final Registry registry;
        private final PackageName pkg;
        private final String topHash;
        private final CompletableFuture<ObjectStore> store;
        private final CompletableFuture<Long> time;

        Opening(Home home, Registry registry, S3Settings s3, PackageName pkg, String topHash, MountSettings settings) {
            this.home = home;
            this.registry = registry;
            this.pkg = pkg;
            this.topHash = topHash;
            this.store = inBackground("quiltfs-open-cache", () -> PackageMount.store(home, registry, s3, settings));
            this.time = inBackground("quiltfs-revision-time", () -> PackageMount.revisionTime(registry, pkg, topHash));
        }

        Manifest manifest() throws IOException {
            try {
                return PackageMount.manifest(home, registry, pkg, topHash);
            } catch (IOException | RuntimeException e) {
                store.thenAccept(ObjectStore::close);
                throw e;
            }
        }

        ObjectStore store() throws IOException {
            return join(store);
        }

        long revisionTime() throws IOException {
            return join(time);
        }
    }

    private interface Work<T> {
        T run() throws IOException;
    }

    private static <T> CompletableFuture<T> inBackground(String name, Work<T> work) {
        CompletableFuture<T> f = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                f.complete(work.run());
            } catch (Throwable e) {
                f.completeExceptionally(e);
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return f;
    }

    private static <T> T join(CompletableFuture<T> f) throws IOException {
        try {
            return f.join();
        } catch (CompletionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            if (c instanceof UncheckedIOException u) {
                throw u.getCause();
            }
            if (c instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(c.toString(), c);
        }
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
        return new ObjectStore(cache, budget, key -> sourceFor(key, registry, s3, bySource), settings.stallMillis(),
                MountSettings.RETRY_PAUSE_MILLIS);
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

    /** Deletes partial fetches and copies that killed processes left in the cache's temporary folder. */
    static void sweepAbandonedFetches(Home home) {
        try {
            new io.quiltfs.store.cache.ObjectCache(home).sweepAbandoned();
        } catch (IOException e) {
            log.debug("cannot sweep {}: {}", home.tmp(), e.getMessage());
        }
    }

    /**
     * The revision's time: when its manifest was written to the registry (one request by key;
     * a listing of the package's pointers would grow with its history), else now.
     */
    static long revisionTime(Registry registry, PackageName pkg, String topHash) {
        try {
            long t = registry.manifestTime(topHash);
            if (t >= 0) {
                return t;
            }
        } catch (IOException | RuntimeException e) {
            // times are cosmetic: a registry that cannot say still mounts
            log.debug("no time for {}@{} in {}: {}", pkg, topHash, registry.uri(), e.getMessage());
        }
        return System.currentTimeMillis() / 1000;
    }
}
