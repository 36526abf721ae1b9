package io.quiltfs.store.workflow;

import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.manifest.ManifestReader;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.state.AtomicFile;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.Lineage;
import io.quiltfs.store.state.PackageState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * One installed package as the workflow verbs see it: the home, the name, a snapshot of its
 * lineage entry, and where its manifests, working files and hash cache are. Manifests are
 * looked up locally first ({@code installed/} for local commits, the registry's manifest cache
 * for revisions seen remotely) and read from the registry, verified, only when absent.
 */
public final class InstalledPackage {
    private final Home home;
    private final PackageName pkg;
    private final PackageState state;

    private InstalledPackage(Home home, PackageName pkg, PackageState state) {
        this.home = home;
        this.pkg = pkg;
        this.state = state;
    }

    /** The package's current lineage entry; {@link NotInstalledException} when there is none. */
    public static InstalledPackage require(Home home, PackageName pkg) throws IOException {
        PackageState s = Lineage.read(home).get(pkg);
        if (s == null) {
            throw new NotInstalledException(pkg);
        }
        if (s.uninstalling) {
            throw Uninstall.unfinished(pkg);
        }
        return new InstalledPackage(home, pkg, s);
    }

    /** The package's lineage entry, or null. */
    public static InstalledPackage find(Home home, PackageName pkg) throws IOException {
        PackageState s = Lineage.read(home).get(pkg);
        return s == null ? null : new InstalledPackage(home, pkg, s);
    }

    public Home home() {
        return home;
    }

    public PackageName name() {
        return pkg;
    }

    /** A copy of the lineage entry as read. */
    public PackageState state() {
        return state.copy();
    }

    /**
     * Working files that are not a plain folder (a mount's working area), by {@code workDir}:
     * attached for the duration of a verb by the process that owns them.
     */
    private static final java.util.concurrent.ConcurrentHashMap<String, WorkingFiles> ATTACHED =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Makes {@link #files()} of packages whose working folder is {@code workDir} return {@code files}. */
    public static void attach(Path workDir, WorkingFiles files) {
        ATTACHED.put(workDir.toAbsolutePath().normalize().toString(), files);
    }

    /** Whether working files are attached for {@code workDir} in this process. */
    public static boolean isAttached(Path workDir) {
        return ATTACHED.containsKey(workDir.toAbsolutePath().normalize().toString());
    }

    public static void detach(Path workDir) {
        ATTACHED.remove(workDir.toAbsolutePath().normalize().toString());
    }

    public WorkingFiles files() {
        WorkingFiles a = ATTACHED.get(Paths.get(state.workDir).toAbsolutePath().normalize().toString());
        return a != null ? a : new WorkFolder(Paths.get(state.workDir));
    }

    /**
     * {@link #files()} for a verb that reads them as the package's content (status, commit, pull):
     * refuses a working folder that no longer exists ({@link MissingWorkFolderException}) rather
     * than taking it for a folder whose files were all deleted, which a commit and push would
     * publish as an empty revision (a folder moved away, or on a disk that is not mounted).
     */
    public WorkingFiles presentFiles() throws IOException {
        WorkingFiles f = files();
        if (f instanceof WorkFolder w && !Files.isDirectory(w.root())) {
            if (Files.exists(w.root(), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("the working folder of " + pkg + ", " + w.root() + ", is not a folder (something"
                        + " else took its place); nothing was changed. Move that away, then run `"
                        + Install.finishCommand(this) + "` to put the package's files back");
            }
            throw new MissingWorkFolderException(pkg, w.root(), Install.finishCommand(this));
        }
        return f;
    }

    public PathFilter filter() {
        return new PathFilter(state.paths);
    }

    public HashCache hashCache() {
        return HashCache.load(home.hashCache(pkg));
    }

    /** The manifest of the local head (a local commit or the installed revision). */
    public Manifest head() throws IOException {
        return manifest(home, pkg, state.registry, state.head, null);
    }

    /**
     * The manifest {@code top}: a local commit, else a cached remote manifest, else read from
     * {@code registry} (when given) and cached.
     */
    public static Manifest manifest(Home home, PackageName pkg, String registryUri, String top, Registry registry)
            throws IOException {
        Path local = home.installedManifest(pkg, top);
        if (Files.isRegularFile(local)) {
            return ManifestReader.read(local);
        }
        Path cached = home.cachedManifest(Home.registryId(registryUri), top);
        if (Files.isRegularFile(cached)) {
            return ManifestReader.read(cached);
        }
        if (registry == null) {
            throw new IOException("the manifest " + top + " of " + pkg + " is missing from " + home.root()
                    + " (run `quiltfs pull " + pkg + "` or reinstall the package)");
        }
        // Keep the registry's own bytes (verified: they hash to `top`), not a re-serialization.
        // The copy is written and synced on another thread while the bytes are parsed and
        // verified (for a large manifest both take a while), and takes its place only once they are.
        byte[] bytes = registry.readManifestBytes(top);
        CompletableFuture<AtomicFile.Staged> copy = CompletableFuture.supplyAsync(() -> {
            try {
                return AtomicFile.stage(cached, bytes);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, InstalledPackage::inBackground);
        Manifest m;
        try {
            m = registry.parseManifest(top, bytes);
        } catch (IOException | RuntimeException e) {
            // Wait for the copy, so that nothing of an unverified manifest is left once this fails.
            try {
                copy.join().discard();
            } catch (CompletionException ignored) {
                // the copy failed too: it left nothing
            }
            throw e;
        }
        AtomicFile.Staged staged;
        try {
            staged = copy.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof UncheckedIOException u ? u.getCause()
                    : new IOException("cannot keep the manifest " + top + " in " + cached, e.getCause());
        }
        Checkpoints.reach("install.manifest-staged");
        staged.commit();
        return m;
    }

    private static void inBackground(Runnable r) {
        Thread t = new Thread(r, "quiltfs-manifest-copy");
        t.setDaemon(true);
        t.start();
    }

    /** Whether the manifest {@code top} is in this home (a local commit, or a cached remote one). */
    public boolean keeps(String top) {
        return Files.isRegularFile(home.installedManifest(pkg, top))
                || Files.isRegularFile(home.cachedManifest(Home.registryId(state.registry), top));
    }

    public Manifest manifest(String top, Registry registry) throws IOException {
        return manifest(home, pkg, state.registry, top, registry);
    }

    /**
     * The header of the manifest {@code top} (a list of revisions shows its message): from this
     * home's copy when it keeps one, else read from {@code registry} without its rows and not
     * kept (a log of hundreds of revisions must neither read nor store every one whole).
     */
    public com.fasterxml.jackson.databind.node.ObjectNode header(String top, Registry registry) throws IOException {
        for (Path p : List.of(home.installedManifest(pkg, top),
                home.cachedManifest(Home.registryId(state.registry), top))) {
            if (Files.isRegularFile(p)) {
                try (java.io.InputStream in = Files.newInputStream(p)) {
                    return ManifestReader.readHeader(ManifestReader.headerBytes(in), p.toString());
                } catch (java.nio.file.NoSuchFileException gone) {
                    // removed meanwhile (a cache trimmed): the registry has it
                }
            }
        }
        return registry.readManifestHeader(top);
    }
}
