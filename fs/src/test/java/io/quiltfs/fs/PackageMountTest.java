package io.quiltfs.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.RegistryException;
import io.quiltfs.store.registry.S3Registry;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.S3ProxyServer;
import io.quiltfs.store.workflow.Build;
import io.quiltfs.store.workflow.Progress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening a revision: the manifest is verified before use and kept in the home only once verified. */
class PackageMountTest {
    @TempDir
    Path tmp;

    private static final PackageName PKG = PackageName.parse("test/pkg");
    private static final MountSettings SETTINGS = new MountSettings(1L << 30, 5_000);

    private String build(Registry registry) throws IOException {
        Path src = Files.createDirectories(tmp.resolve("src/d"));
        Files.writeString(src.resolve("a.txt"), "a\n");
        Files.writeString(src.resolve("b.txt"), "b\n");
        return Build.build(registry, PKG, src.getParent(), "msg", Json.parse("{}"), HashType.SHA2_256_CHUNKED,
                Clock.systemUTC(), Progress.NONE).topHash();
    }

    private static Path kept(Home home, LocalRegistry registry, String top) {
        return home.cachedManifest(Home.registryId(registry.uri()), top);
    }

    @Test
    void aVerifiedManifestIsKeptAndReadFromTheHomeNextTime() throws IOException {
        LocalRegistry registry = new LocalRegistry(tmp.resolve("registry"));
        String top = build(registry);
        Home home = new Home(tmp.resolve("home"));
        try (PackageFs fs = PackageMount.open(home, registry, null, PKG, top, SETTINGS)) {
            assertEquals(top, fs.manifest().topHash());
            assertEquals(2, fs.manifest().size());
        }
        Path kept = kept(home, registry, top);
        assertArrayEquals(registry.readManifestBytes(top), Files.readAllBytes(kept));
        try (Stream<Path> s = Files.list(kept.getParent())) {
            assertEquals(1, s.count(), "no temporary file is left");
        }
        // The next open reads the home's copy: the registry's may go away.
        Files.delete(tmp.resolve("registry/.quilt/packages").resolve(top));
        try (PackageFs fs = PackageMount.openEditable(home, registry, null, PKG, top, SETTINGS)) {
            assertEquals(top, fs.manifest().topHash());
        }
    }

    @Test
    void aManifestThatDoesNotHashToItsNameIsRefusedAndNotKept() throws IOException {
        LocalRegistry registry = new LocalRegistry(tmp.resolve("registry"));
        String top = build(registry);
        Path file = tmp.resolve("registry/.quilt/packages").resolve(top);
        Files.writeString(file, Files.readString(file).replace("\"size\":2", "\"size\":3"), StandardCharsets.UTF_8);
        Home home = new Home(tmp.resolve("home"));
        RegistryException e = assertThrows(RegistryException.class,
                () -> PackageMount.open(home, registry, null, PKG, top, SETTINGS));
        assertTrue(e.getMessage().contains("does not hash to its name"), e.getMessage());
        Path kept = kept(home, registry, top);
        assertFalse(Files.exists(kept));
        if (Files.isDirectory(kept.getParent())) {
            try (Stream<Path> s = Files.list(kept.getParent())) {
                assertEquals(0, s.count(), "nothing is left in " + kept.getParent());
            }
        }
    }

    /** Long before any test ran: a time that can only come from the manifest. */
    private static final long WRITTEN = 1_500_000_000L;

    @Test
    void theRevisionsTimeIsWhenItsManifestWasWritten() throws IOException {
        LocalRegistry registry = new LocalRegistry(tmp.resolve("registry"));
        String top = build(registry);
        Files.setLastModifiedTime(tmp.resolve("registry/.quilt/packages").resolve(top), FileTime.fromMillis(WRITTEN * 1000));
        Home home = new Home(tmp.resolve("home"));
        try (PackageFs fs = PackageMount.open(home, registry, null, PKG, top, SETTINGS)) {
            assertEquals(WRITTEN, fs.getattr("/").mtime());
            assertEquals(WRITTEN, fs.getattr("/d/a.txt").mtime());
        }
        assertEquals(-1, registry.manifestTime("0".repeat(64)));
    }

    @Test
    void openingOnS3AsksTheManifestsTimeByKeyWithoutAListing() throws IOException {
        S3ProxyServer server = S3ProxyServer.shared();
        String bucket = server.newBucket();
        String top;
        try (S3Registry r = S3Registry.open(bucket, server.settings())) {
            top = build(r);
            for (int i = 0; i < 20; i++) { // a long history, which opening must not walk
                r.writePointer(PKG, Long.toString(1_600_000_000L + i), top);
            }
        }
        // The filesystem backend reports a file's mtime as the object's Last-Modified.
        Files.setLastModifiedTime(server.objectFile(bucket, ".quilt/packages/" + top), FileTime.fromMillis(WRITTEN * 1000));
        Home home = new Home(tmp.resolve("home"));
        try (S3Registry r = S3Registry.open(bucket, server.settings());
             PackageFs fs = PackageMount.open(home, r, server.settings(), PKG, top, SETTINGS)) {
            assertEquals(WRITTEN, fs.getattr("/").mtime());
            Map<String, Long> requests = r.requestCounts();
            assertFalse(requests.containsKey("ListObjectsV2"), "no listing: " + requests);
            assertEquals(Map.of("GetObject", 1L, "HeadObject", 1L), requests, "the manifest and its time");
        }
    }
}
