package io.quiltfs.nativetests;

import io.quiltfs.fs.MountSettings;
import io.quiltfs.fs.PackageFs;
import io.quiltfs.fs.PackageMount;
import io.quiltfs.fs.fuse.FuseMount;
import io.quiltfs.store.state.MountTable;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.TestRegistries;
import io.quiltfs.store.workflow.Build;
import io.quiltfs.store.workflow.Progress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A package built from a generated folder into a fresh registry of one kind, mounted for real
 * in the test JVM (with auto_unmount, so even a killed JVM leaves no stale mount).
 */
final class Fixture implements AutoCloseable {
    static final PackageName PKG = PackageName.parse("test/mounted");
    static final int BIG = 40 << 20;

    final Path scratch;
    final Path src;
    final Path home;
    final String uri;
    final Registry registry;
    String topHash;
    Manifest manifest;
    Path mnt;
    private PackageFs fs;
    private FuseMount mount;

    /** Skips the calling test only where FUSE truly cannot run. */
    static void assumeFuse() {
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")), "no /dev/fuse: FUSE cannot run here");
    }

    Fixture(TestRegistries.Kind kind) throws IOException {
        assumeFuse();
        scratch = Files.createTempDirectory("quiltfs-native");
        src = Files.createDirectories(scratch.resolve("src"));
        home = scratch.resolve("home");
        uri = kind.newRegistry(Files.createDirectories(scratch.resolve("registries")));
        registry = kind.open(uri);
    }

    /** The standard tree: nested folders, text, an empty file, odd names and one large file. */
    Fixture withStandardTree() throws IOException {
        write("README.md", "# a package\nneedle in the readme\n");
        write("empty.txt", "");
        write("name with spaces.txt", "spaces\n");
        write("ünïcødé.txt", "unicode\n");
        for (int d = 0; d < 3; d++) {
            for (int f = 0; f < 5; f++) {
                write("data/dir" + d + "/file" + f + ".csv", "row," + d + "," + f + "\n".repeat(d + f + 1));
            }
        }
        write("data/deep/a/b/c/needle.txt", "a needle deep down\n");
        byte[] big = new byte[BIG];
        new Random(42).nextBytes(big);
        Files.createDirectories(src.resolve("blobs"));
        Files.write(src.resolve("blobs/big.bin"), big);
        byte[] mid = new byte[3 << 20];
        new Random(7).nextBytes(mid);
        for (int i = 0; i < 16; i++) {
            mid[0] = (byte) i;
            Files.write(src.resolve("blobs/mid" + i + ".bin"), mid);
        }
        return build();
    }

    void write(String key, String content) throws IOException {
        Path p = src.resolve(key);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content, StandardCharsets.UTF_8);
    }

    Fixture build() throws IOException {
        var res = Build.build(registry, PKG, src, "native test", Json.parse("{\"purpose\":\"test\"}"),
                HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE);
        topHash = res.topHash();
        manifest = res.manifest();
        return this;
    }

    /** Publishes a hand-made manifest (e.g. with broken rows) as the revision to mount. */
    Fixture publish(Manifest m) throws IOException {
        topHash = registry.writeManifest(m);
        registry.writePointer(PKG, "latest", topHash);
        manifest = m;
        return this;
    }

    Fixture mount() throws IOException {
        return mount(1L << 30);
    }

    /** Mounts with an object cache limited to {@code cacheBytes}. */
    Fixture mount(long cacheBytes) throws IOException {
        mnt = Files.createDirectories(scratch.resolve("mnt"));
        fs = PackageMount.open(new Home(home), registry, S3Settings.defaults(), PKG, topHash,
                new MountSettings(cacheBytes, 10_000));
        mount = FuseMount.mount(fs, mnt, true);
        return this;
    }

    /** The FUSE mount made by {@link #mount}. */
    FuseMount fuse() {
        return mount;
    }

    void unmount() throws IOException {
        try {
            if (mount != null) {
                mount.close();
            }
        } finally {
            mount = null;
            if (fs != null) {
                fs.close();
                fs = null;
            }
        }
    }

    @Override
    public void close() throws IOException {
        try {
            unmount();
        } finally {
            try {
                registry.close();
            } finally {
                if (mnt == null || MountTable.at(mnt) == null) {
                    deleteTree(scratch);
                }
            }
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                p.toFile().setWritable(true);
                Files.deleteIfExists(p);
            }
        }
    }
}
