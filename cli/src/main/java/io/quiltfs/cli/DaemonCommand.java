package io.quiltfs.cli;

import io.quiltfs.fs.MountSettings;
import io.quiltfs.fs.PackageFs;
import io.quiltfs.fs.PackageMount;
import io.quiltfs.fs.fuse.FuseMount;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.AtomicFile;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.state.HomeLock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The mount's background process (started by {@code mount}): serves one revision until unmounted. */
@Command(name = DaemonCommand.NAME, hidden = true, mixinStandardHelpOptions = true,
        description = "Serve a mount in this process (started by `quiltfs mount`).")
final class DaemonCommand extends BaseCommand {
    static final String NAME = "__daemon";
    private static final Logger log = LoggerFactory.getLogger(DaemonCommand.class);

    @Parameters(index = "0", paramLabel = "NS/NAME@TOPHASH")
    String ref;

    @Parameters(index = "1", paramLabel = "MOUNTPOINT")
    Path mountpoint;

    @Option(names = "--registry", required = true)
    String registry;

    @Option(names = "--cache-bytes", required = true)
    long cacheBytes;

    /** Serve the revision read-only (no working area). */
    @Option(names = "--read-only")
    boolean readOnly;

    /** Only for tests of stale-mount cleaning: without it a SIGKILL leaves the mount behind. */
    @Option(names = "--no-auto-unmount", hidden = true)
    boolean noAutoUnmount;

    @Override
    public Integer call() throws Exception {
        holdClassPath();
        PackageRef pr = PackageRef.parse(ref);
        if (pr.hash() == null || pr.hash().length() != 64) {
            throw new IllegalArgumentException(NAME + " needs NS/NAME@TOPHASH with the full top hash");
        }
        return serve(home(), root().s3(), root().endpoint, registry, pr.name(), pr.hash(),
                mountpoint.toAbsolutePath().normalize(), cacheBytes, !noAutoUnmount, !readOnly, out());
    }

    /**
     * Opens every jar of the class path now; the class loader keeps them open. A mount runs for
     * days, and the jars it started from may be rebuilt meanwhile (the launcher moves the old
     * build aside first, so the open files keep their content): the classes it loads later come
     * from the build it started with, never from a half-written or different one. Resources
     * (a schema, a library's meta-schema) are read through {@code jar:} URLs, which open the jar
     * again by its path unless the URL handler's cache holds it: each jar goes into that cache
     * now too.
     */
    static void holdClassPath() {
        try {
            var all = DaemonCommand.class.getClassLoader().getResources("META-INF/MANIFEST.MF");
            while (all.hasMoreElements()) {
                java.net.URL u = all.nextElement();
                if ("jar".equals(u.getProtocol())) {
                    java.net.URLConnection c = u.openConnection();
                    c.setUseCaches(true); // the cached jar stays open when this stream closes
                    c.getInputStream().close();
                }
            }
        } catch (IOException e) {
            log.warn("could not open the class path up front: {}", e.getMessage());
        }
    }

    /** The log of the daemon serving {@code mp}. */
    static Path logFile(Home home, Path mp) {
        return home.logs().resolve("mount-" + Home.registryId(mp.toString()) + ".log");
    }

    /** The record of the mount at {@code mp}: package, revision, process. */
    static Path stateFile(Home home, Path mp) {
        return home.mounts().resolve(Home.registryId(mp.toString()) + ".json");
    }

    /** Mounts and blocks until unmounted. */
    static int serve(Home home, S3Settings s3, String endpoint, String uri, PackageName pkg, String topHash, Path mp,
                     long cacheBytes, boolean autoUnmount, boolean editable, Output out)
            throws IOException, InterruptedException {
        Path state = stateFile(home, mp);
        FuseMount.warmUp();
        MountSettings settings = new MountSettings(cacheBytes, MountSettings.DEFAULT_STALL_MILLIS);
        HomeLock areaLock = null;
        if (editable) {
            areaLock = HomeLock.tryAcquire(home.mountArea(pkg).resolve("lock"));
            if (areaLock == null) {
                throw new CliException(ExitCodes.CONFLICT, pkg + " is already mounted for editing from " + home.root()
                        + "; mount it elsewhere with --read-only");
            }
        }
        try (HomeLock held = areaLock;
             Registry r = Registries.open(uri, s3);
             PackageFs fs = editable ? PackageMount.openEditable(home, r, s3, pkg, topHash, settings)
                     : PackageMount.open(home, r, s3, pkg, topHash, settings)) {
            if (editable) {
                MountControl control = new MountControl(home, endpoint, fs);
                fs.control(control);
                io.quiltfs.store.workflow.InstalledPackage.attach(home.mountArea(pkg), fs.liveFiles());
            }
            return serveMounted(home, fs, uri, pkg, topHash, mp, cacheBytes, autoUnmount, editable, state, out);
        } finally {
            deleteQuietly(state);
        }
    }

    private static int serveMounted(Home home, PackageFs fs, String uri, PackageName pkg, String topHash, Path mp,
                                    long cacheBytes, boolean autoUnmount, boolean editable, Path state, Output out)
            throws IOException, InterruptedException {
        try (FuseMount mount = FuseMount.mount(fs, mp, autoUnmount)) {
            AtomicFile.write(state, Json.pretty(Json.object().put("mountpoint", mp.toString())
                    .put("package", pkg.toString()).put("top_hash", topHash).put("registry", uri)
                    .put("editable", editable)
                    .put("pid", ProcessHandle.current().pid()).put("log", logFile(home, mp).toString())
                    .put("cache_bytes", cacheBytes)).getBytes(StandardCharsets.UTF_8));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(state)));
            log.info("serving {}@{} from {} at {} ({} files, cache limit {} bytes)", pkg, topHash, uri, mp,
                    fs.manifest().size(), cacheBytes);
            out.line("mounted " + pkg + "@" + topHash.substring(0, 12) + " at " + mp + " (unmount to stop)");
            out.flush();
            mount.awaitUnmounted();
            log.info("unmounted {}", mp);
        } finally {
            deleteQuietly(state);
        }
        return ExitCodes.OK;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover record names a dead pid; unmount and mount both tolerate it
        }
    }
}
