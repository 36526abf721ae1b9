package io.quiltfs.store.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.manifest.ManifestException;
import io.quiltfs.store.manifest.ManifestReader;
import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PackageRef;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.RegistryException;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A registry is untrusted input: pointers and manifests of any size and objects of any kind
 * get one clear error, never an unbounded read, a crash or a hang.
 */
class HostileRegistryTest {
    static final PackageName PKG = PackageName.parse("team/data");

    @TempDir
    Path tmp;


    /** A sparse file of {@code size} bytes starting with {@code head}: costs no disk. */
    static void sparse(Path p, String head, long size) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.write(head.getBytes(StandardCharsets.US_ASCII));
            f.setLength(size);
        }
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void pointersWithWhitespaceReadAndAHugeOneIsRefusedUnread(TestRegistries.Kind kind) throws IOException {
        String uri = kind.newRegistry(tmp);
        String h = "0123456789abcdef".repeat(4);
        try (Registry r = kind.open(uri)) {
            Path latest = TestRegistries.backing(uri, ".quilt/named_packages/team/data/latest");
            Files.writeString(latest, h + "\r\n");
            assertEquals(h, r.latest(PKG), "CRLF after the hash, as a Windows editor leaves it");
            Files.writeString(latest, "");
            assertTrue(assertThrows(RegistryException.class, () -> r.latest(PKG)).getMessage().contains("empty"));
            // Three GB: read whole, it was an OutOfMemoryError ("Required array size too large").
            sparse(latest, h, 3L << 30);
            RegistryException e = assertThrows(RegistryException.class, () -> r.latest(PKG));
            assertTrue(e.getMessage().contains("team/data/latest") && e.getMessage().contains("over 1024 bytes"),
                    e.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aPointerNamedWithMoreDigitsThanALongHoldsIsNoRevision(TestRegistries.Kind kind) throws IOException {
        String uri = kind.newRegistry(tmp);
        String h = "0123456789abcdef".repeat(4);
        Files.writeString(TestRegistries.backing(uri, ".quilt/named_packages/team/data/1700000000"), h);
        // Was a NumberFormatException: "quiltfs: error: For input string: ..." and exit 2 (usage).
        Files.writeString(TestRegistries.backing(uri, ".quilt/named_packages/team/data/9999999999999999999"), h);
        try (Registry r = kind.open(uri)) {
            assertEquals(java.util.List.of(new io.quiltfs.store.registry.Revision(1700000000L, h)), r.revisions(PKG));
        }
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void aManifestOfOneHugeLineIsRefusedForThatLine(TestRegistries.Kind kind) throws IOException {
        String uri = kind.newRegistry(tmp);
        String top = "f".repeat(64);
        // Past 2 GB, so that reading it whole could not even be tried: it used to fail on its
        // size (local) or run out of memory (S3) instead of naming the line at fault.
        sparse(TestRegistries.backing(uri, ".quilt/packages/" + top), "{\"version\":\"v0\",\"message\":\"", (2L << 30) + 5);
        try (Registry r = kind.open(uri)) {
            ManifestException e = assertThrows(ManifestException.class, () -> r.readManifest(top));
            assertTrue(e.getMessage().endsWith(":1: the header line is over 1 MB"), e.getMessage());
        }
    }

    @Test
    void readBytesStopsAtTheFirstLineOverTheLimit() throws IOException {
        String header = "{\"version\":\"v0\"}\n";
        String row = "{\"logical_key\":\"big\",\"x\":\"";
        long[] served = {0};
        // An endless second line: only its first megabytes are ever read.
        java.io.InputStream endless = new java.io.InputStream() {
            @Override
            public int read() {
                return served[0] < header.length() + row.length()
                        ? (header + row).charAt((int) served[0]++) : (int) (++served[0] % 26 + 'a');
            }

            @Override
            public int read(byte[] b, int off, int len) {
                for (int i = 0; i < len; i++) {
                    b[off + i] = (byte) read();
                }
                return len;
            }
        };
        byte[] got = ManifestReader.readBytes(endless, -1, "test");
        assertTrue(served[0] < 4 << 20, "read " + served[0] + " bytes");
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestReader.read(got, "test"));
        assertTrue(e.getMessage().contains(":2: ") && e.getMessage().contains("'big'")
                && e.getMessage().contains("over 1 MB"), e.getMessage());

        byte[] fine = (header + "{\"logical_key\":\"a\"}\n".repeat(1000)).getBytes(StandardCharsets.US_ASCII);
        assertEquals(new String(fine, StandardCharsets.US_ASCII), new String(ManifestReader.readBytes(
                new java.io.ByteArrayInputStream(fine), -1, "test"), StandardCharsets.US_ASCII));
        assertEquals(fine.length, ManifestReader.readBytes(new java.io.ByteArrayInputStream(fine), fine.length, "t").length);
    }

    @Test
    void anS3ObjectShorterThanItsRowSaysIsNamedSo() throws IOException {
        String uri = TestRegistries.S3.newRegistry(tmp);
        Files.writeString(TestRegistries.backing(uri, "team/data/s.txt"), "ab");
        try (Registry r = TestRegistries.S3.open(uri)) {
            PhysicalKey k = PhysicalKey.parse(uri + "/team/data/s.txt");
            // A read of bytes the row says exist (a mount reads files in ranges): was "InvalidRange (HTTP 416)".
            RegistryException e = assertThrows(RegistryException.class, () -> r.open(k, 4, 8).readAllBytes());
            assertTrue(e.getMessage().contains("s3://") && e.getMessage().contains("/team/data/s.txt is shorter than its"
                    + " manifest row says"), e.getMessage());
        }
    }

    static void mkfifo(Path p) throws Exception {
        Files.createDirectories(p.getParent());
        assertEquals(0, new ProcessBuilder("mkfifo", p.toString()).inheritIO().start().waitFor());
    }

    @Test
    void aPipeForAPointerOrAManifestIsRefusedNotWaitedFor() throws Exception {
        LocalRegistry r = new LocalRegistry(tmp.resolve("reg"));
        String top = "f".repeat(64);
        mkfifo(tmp.resolve("reg/.quilt/named_packages/team/data/latest"));
        mkfifo(tmp.resolve("reg/.quilt/packages/" + top));
        RegistryException e = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> assertThrows(RegistryException.class, () -> r.latest(PKG)));
        assertTrue(e.getMessage().contains("latest is not a regular file"), e.getMessage());
        e = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> assertThrows(RegistryException.class, () -> r.readManifest(top)));
        assertTrue(e.getMessage().contains(top + " is not a regular file"), e.getMessage());
    }

    /** A row may name any path: a pipe would block the reader forever, a device never ends. */
    @Test
    void anObjectThatIsAPipeOrAFolderIsRefusedNotWaitedFor() throws Exception {
        Path fifo = tmp.resolve("fifo");
        mkfifo(fifo);
        LocalRegistry r = new LocalRegistry(tmp.resolve("reg"));
        String sum = "\"hash\":{\"type\":\"SHA256\",\"value\":\"" + "ab".repeat(32) + "\"}";
        byte[] m = ("{\"version\":\"v0\",\"message\":\"m\"}\n"
                + "{\"logical_key\":\"dir\",\"physical_keys\":[\"" + PhysicalKey.ofFile(tmp) + "\"],\"size\":3," + sum + "}\n"
                + "{\"logical_key\":\"pipe\",\"physical_keys\":[\"" + PhysicalKey.ofFile(fifo) + "\"],\"size\":3," + sum + "}\n")
                .getBytes(StandardCharsets.UTF_8);
        String top = ManifestReader.read(m, "test").topHash();
        r.writeManifestBytes(top, m);
        r.writePointer(PKG, "latest", top);
        for (String key : new String[] {"pipe", "dir"}) {
            IOException e = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> assertThrows(IOException.class,
                    () -> Install.install(new Home(tmp.resolve("home-" + key)), r, PackageRef.latest(PKG),
                            tmp.resolve("work-" + key), java.util.List.of(key), pk -> {
                                try {
                                    return Registries.sourceFor(pk, r, S3Settings.defaults());
                                } catch (IOException x) {
                                    throw new UncheckedIOException(x);
                                }
                            }, Progress.NONE)));
            assertTrue(e.getMessage().contains("is not a regular file"), e.getMessage());
        }
    }
}
