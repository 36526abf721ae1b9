package io.quiltfs.store.state;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.registry.PackageName;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HexFormat;
import java.util.Map;

/**
 * The one place that knows the on-disk layout of a quiltfs home:
 *
 * <pre>
 * HOME/.quilt/objects/HEX                      content-addressed objects (sha2-256-chunked)
 * HOME/.quilt/objects/TYPE-HEX                 objects known by another checksum type
 * HOME/.quilt/stamps/NAME                      "verified" stamps of cached objects
 * HOME/.quilt/packages/REGISTRY-ID/TOPHASH     cached remote manifests
 * HOME/.quilt/installed/NS/NAME/TOPHASH        manifests committed locally
 * HOME/.quilt/data.json                        lineage
 * HOME/.quilt/hashcache/NS/NAME.json           status hash cache of a working folder
 * HOME/.quilt/tmp/                             temporary files (same file system as objects)
 * HOME/.quilt/locks/                           lock files (lineage.lock, package.NS.NAME.lock; a name
 *                                              over 255 bytes is shortened, see {@link #fileName})
 * HOME/work/NS/NAME/                           default working folders
 * HOME/mounts/                                 mount records (one JSON per mount point)
 * HOME/mounts/areas/NS/NAME/                    a mounted package's working area: files/ID, journal, lock
 * HOME/logs/                                   daemon logs
 * </pre>
 */
public final class Home {
    private final Path root;

    public Home(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /**
     * The home from {@code --home}, else {@code QUILTFS_HOME}, else {@code $XDG_DATA_HOME/quiltfs},
     * else {@code $HOME/.local/share/quiltfs}.
     */
    public static Home locate(String option, Map<String, String> env) {
        if (option != null && !option.isEmpty()) {
            return new Home(Paths.get(option));
        }
        String h = env.get("QUILTFS_HOME");
        if (h != null && !h.isEmpty()) {
            return new Home(Paths.get(h));
        }
        String xdg = env.get("XDG_DATA_HOME");
        if (xdg != null && !xdg.isEmpty()) {
            return new Home(Paths.get(xdg, "quiltfs"));
        }
        // `~` as the shell and the XDG spec mean it: $HOME (the JVM's user.home is the passwd entry,
        // which sudo, containers and scripts that set HOME differ from).
        String userHome = env.get("HOME");
        if (userHome == null || userHome.isEmpty()) {
            userHome = System.getProperty("user.home");
        }
        return new Home(Paths.get(userHome, ".local", "share", "quiltfs"));
    }

    public Path root() {
        return root;
    }

    Path quilt() {
        return root.resolve(".quilt");
    }

    public Path objects() {
        return quilt().resolve("objects");
    }

    /** The cache file name of an object with this checksum. */
    public static String objectName(Checksum sum) {
        return sum.type() == HashType.SHA2_256_CHUNKED ? sum.hex() : sum.type().wireName() + "-" + sum.hex();
    }

    public Path object(Checksum sum) {
        return objects().resolve(objectName(sum));
    }

    public Path stamps() {
        return quilt().resolve("stamps");
    }

    public Path tmp() {
        return quilt().resolve("tmp");
    }

    public Path locks() {
        return quilt().resolve("locks");
    }

    public Path lineageFile() {
        return quilt().resolve("data.json");
    }

    public Path cachedManifest(String registryId, String topHash) {
        return quilt().resolve("packages").resolve(registryId).resolve(topHash);
    }

    public Path installedManifest(PackageName pkg, String topHash) {
        return installedDir(pkg).resolve(topHash);
    }

    public Path installedDir(PackageName pkg) {
        return quilt().resolve("installed").resolve(part(pkg, pkg.namespace())).resolve(part(pkg, pkg.name()));
    }

    public Path hashCache(PackageName pkg) {
        return quilt().resolve("hashcache").resolve(part(pkg, pkg.namespace())).resolve(fileName(pkg.name(), ".json"));
    }

    /** The lock that serializes the workflow verbs (install, commit, push, pull...) of one package. */
    public Path packageLock(PackageName pkg) {
        return locks().resolve(fileName("package." + pkg.namespace() + "." + pkg.name(), ".lock"));
    }

    public Path defaultWorkDir(PackageName pkg) {
        return root.resolve("work").resolve(part(pkg, pkg.namespace())).resolve(part(pkg, pkg.name()));
    }

    /** Most bytes a file name may have (Linux's NAME_MAX, on every common file system). */
    public static final int MAX_NAME_BYTES = 255;

    /**
     * {@code stem + suffix} as a file name, which may be at most {@value #MAX_NAME_BYTES} bytes:
     * unchanged when it fits (so existing names stay), else the stem's first bytes, {@code '~'}
     * and 32 hex digits of the SHA-256 of the whole stem, then the suffix. A package name never
     * holds {@code '~'}, so a shortened name cannot be another package's full one, and two
     * shortened names differ as their stems' hashes do.
     */
    public static String fileName(String stem, String suffix) {
        String whole = stem + suffix;
        if (whole.getBytes(StandardCharsets.UTF_8).length <= MAX_NAME_BYTES) {
            return whole;
        }
        byte[] h = io.quiltfs.store.hash.Sha256.newDigest().digest(stem.getBytes(StandardCharsets.UTF_8));
        String tail = "~" + HexFormat.of().formatHex(h, 0, 16) + suffix;
        java.nio.charset.CharsetEncoder enc = StandardCharsets.UTF_8.newEncoder();
        java.nio.ByteBuffer room = java.nio.ByteBuffer.allocate(MAX_NAME_BYTES - tail.getBytes(StandardCharsets.UTF_8).length);
        java.nio.CharBuffer in = java.nio.CharBuffer.wrap(stem);
        enc.encode(in, room, true); // stops before the first character that does not fit
        return stem.substring(0, in.position()) + tail;
    }

    /**
     * A part of a package name as a folder name of its own; refused, naming the package, when it
     * is longer than a file name can be (an S3 registry may hold such a package: it can be
     * browsed, not kept in a home).
     */
    private static String part(PackageName pkg, String part) {
        int bytes = part.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_NAME_BYTES) {
            String shown = pkg.toString().length() > 60 ? pkg.toString().substring(0, 60) + "..." : pkg.toString();
            throw new IllegalArgumentException("package " + io.quiltfs.store.manifest.LogicalKey.printable(shown)
                    + " has a name part of " + bytes + " bytes (UTF-8), but a file name holds at most "
                    + MAX_NAME_BYTES + ": it cannot be installed or mounted here (browse it instead)");
        }
        return part;
    }

    /** What a remote registry was confirmed to hold (a cache that saves requests on push). */
    public Path registryRecord(String registryUri) {
        return quilt().resolve("registries").resolve(registryId(registryUri) + ".tsv");
    }

    /** The multipart uploads this home's processes began in a registry and have not ended. */
    public Path registryUploads(String registryUri) {
        return quilt().resolve("registries").resolve(registryId(registryUri) + ".uploads");
    }

    public Path mounts() {
        return root.resolve("mounts");
    }

    /** The working area of a package edited through a mount (its working copies and journal). */
    public Path mountArea(PackageName pkg) {
        return mounts().resolve("areas").resolve(part(pkg, pkg.namespace())).resolve(part(pkg, pkg.name()));
    }

    public Path logs() {
        return root.resolve("logs");
    }

    /** A file-name-safe id for a registry URI: readable part plus a short hash. */
    public static String registryId(String uri) {
        String readable = uri.replaceFirst("^[a-z0-9]+://", "").replaceAll("[^A-Za-z0-9._-]+", "_");
        if (readable.length() > 40) {
            readable = readable.substring(readable.length() - 40);
        }
        byte[] h = io.quiltfs.store.hash.Sha256.newDigest().digest(uri.getBytes(StandardCharsets.UTF_8));
        return readable.replaceAll("^[._]+", "") + "-" + HexFormat.of().formatHex(h, 0, 6);
    }

    /** Creates the directories a home needs (idempotent). */
    public Home ensure() throws IOException {
        Files.createDirectories(objects());
        Files.createDirectories(stamps());
        Files.createDirectories(tmp());
        Files.createDirectories(locks());
        return this;
    }
}
