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

    /** Only for tests of stale-mount cleaning: without it a SIGKILL leaves the mount behind. */
    @Option(names = "--no-auto-unmount", hidden = true)
    boolean noAutoUnmount;

    @Override
    public Integer call() throws Exception {
        PackageRef pr = PackageRef.parse(ref);
        if (pr.hash() == null || pr.hash().length() != 64) {
            throw new IllegalArgumentException(NAME + " needs NS/NAME@TOPHASH with the full top hash");
        }
        return serve(home(), root().s3(), registry, pr.name(), pr.hash(), mountpoint.toAbsolutePath().normalize(),
                cacheBytes, !noAutoUnmount, out());
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
    static int serve(Home home, S3Settings s3, String uri, PackageName pkg, String topHash, Path mp,
                     long cacheBytes, boolean autoUnmount, Output out) throws IOException, InterruptedException {
        Path state = stateFile(home, mp);
        FuseMount.warmUp();
        try (Registry r = Registries.open(uri, s3);
             PackageFs fs = PackageMount.open(home, r, s3, pkg, topHash,
                     new MountSettings(cacheBytes, MountSettings.DEFAULT_STALL_MILLIS));
             FuseMount mount = FuseMount.mount(fs, mp, autoUnmount)) {
            AtomicFile.write(state, Json.pretty(Json.object().put("mountpoint", mp.toString())
                    .put("package", pkg.toString()).put("top_hash", topHash).put("registry", uri)
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
