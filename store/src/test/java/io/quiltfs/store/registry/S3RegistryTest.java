package io.quiltfs.store.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.testing.S3ProxyServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** S3Registry against a real S3 server (S3Proxy on loopback). */
class S3RegistryTest {
    static final String H1 = "1".repeat(64);
    static final String H2 = "2".repeat(64);
    static final String H3 = "3".repeat(64);
    static final PackageName PKG = PackageName.parse("team/data");

    @TempDir
    Path tmp;
    S3ProxyServer server;
    String bucket;
    S3Registry reg;

    @BeforeEach
    void setUp() throws IOException {
        server = S3ProxyServer.shared();
        bucket = server.newBucket();
        reg = open();
    }

    @AfterEach
    void tearDown() {
        reg.close();
    }

    /** Default tuning but 8 MiB ranges, so that a 20 MiB object downloads in three parallel ranges. */
    static final S3Registry.Tuning SMALL_RANGES = new S3Registry.Tuning(Duration.ofMinutes(1), Duration.ofSeconds(30),
            Duration.ofSeconds(5), 5, 8, 4, 16L << 20, 8L << 20);

    S3Registry open() {
        return new S3Registry(bucket, server.settings(), SMALL_RANGES, null);
    }

    Path file(String name, int size, long seed) throws IOException {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        Path p = tmp.resolve(name);
        Files.write(p, b);
        return p;
    }

    static long count(S3Registry r, String op) {
        return r.requestCounts().getOrDefault(op, 0L);
    }

    @Test
    void opensThroughRegistries() throws IOException {
        try (Registry r = Registries.open("s3://" + bucket + "/", server.settings())) {
            assertEquals("s3://" + bucket, r.uri());
            assertTrue(r instanceof S3Registry);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Registries.open("s3://" + bucket + "/sub", server.settings()));
        assertTrue(e.getMessage().contains("whole bucket"), e.getMessage());
    }

    @Test
    void manifestsAndPointersByKey() throws IOException {
        byte[] m = "{\"version\": \"v0\"}\n".getBytes(StandardCharsets.UTF_8);
        assertFalse(reg.hasManifest(H1));
        reg.writeManifestBytes(H1, m);
        assertTrue(reg.hasManifest(H1));
        assertArrayEquals(m, reg.readManifestBytes(H1));
        assertArrayEquals(m, Files.readAllBytes(server.objectFile(bucket, ".quilt/packages/" + H1)));
        RegistryException.NotFound nf = assertThrows(RegistryException.NotFound.class, () -> reg.readManifestBytes(H2));
        assertTrue(nf.getMessage().contains(H2) && nf.getMessage().contains("s3://" + bucket), nf.getMessage());

        assertNull(reg.latest(PKG));
        reg.writePointer(PKG, "1700000000", H1);
        reg.writePointer(PKG, "latest", H1);
        assertEquals(H1, reg.latest(PKG));
        assertEquals(H1, reg.readPointer(PKG, "1700000000"));
        // Exactly the 64 hex digits, no newline: quilt3 does not strip what it reads.
        assertEquals(H1, Files.readString(server.objectFile(bucket, ".quilt/named_packages/team/data/latest")));
        assertNull(reg.readPointer(PKG, "1700000001"));
    }

    @Test
    void compareAndSetLatest() throws IOException {
        assertNull(reg.compareAndSetLatest(PKG, null, H1));
        assertEquals(H1, reg.compareAndSetLatest(PKG, null, H2));
        assertNull(reg.compareAndSetLatest(PKG, H1, H2));
        assertEquals(H2, reg.compareAndSetLatest(PKG, H1, H3));
        assertEquals(H2, reg.latest(PKG));
        PackageName other = PackageName.parse("team/other");
        assertEquals("", reg.compareAndSetLatest(other, H1, H2));
        assertNull(reg.latest(other));
    }

    @Test
    void concurrentCompareAndSetNeverLosesTheWinner() throws Exception {
        // On AWS S3 a conditional PUT is atomic, so exactly one of these wins. S3Proxy checks
        // If-Match and then writes without a lock, so several may pass its check at once (the
        // read-back after the write refuses those whose value was replaced before they looked,
        // see the test above, but not one replaced after): here we can only require that latest
        // ends at a winner's value and that the server honoured the conditions (no 501 fallback).
        reg.writePointer(PKG, "latest", H1);
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<String>> results = new ArrayList<>();
            List<String> wanted = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                String mine = Integer.toHexString(10 + i).repeat(64).substring(0, 64);
                wanted.add(mine);
                results.add(pool.submit(() -> reg.compareAndSetLatest(PKG, H1, mine)));
            }
            List<String> winners = new ArrayList<>();
            for (int i = 0; i < results.size(); i++) {
                if (results.get(i).get() == null) {
                    winners.add(wanted.get(i));
                } else {
                    assertTrue(wanted.contains(results.get(i).get()), "a loser reports the value it found");
                }
            }
            assertFalse(winners.isEmpty());
            assertTrue(winners.contains(reg.latest(PKG)), "latest holds a winner's value");
            assertTrue(reg.conditionalWrites(), "S3Proxy accepts If-Match / If-None-Match on PUT");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aCompareAndSetWhoseWriteIsReplacedAtOnceIsRefused() throws IOException {
        // S3Proxy checks If-Match, then stores the object in a second step: a second writer that
        // passed the same check at the same instant can land its value right after ours. The
        // writer whose value was replaced must hear that it lost, not that it moved latest.
        reg.writePointer(PKG, "latest", H1);
        try (S3Registry other = open()) {
            reg.afterCompareAndSetWrite = () -> {
                try {
                    other.writePointer(PKG, "latest", H3);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            };
            assertEquals(H3, reg.compareAndSetLatest(PKG, H1, H2));
            reg.afterCompareAndSetWrite = null;
        }
        assertEquals(H3, reg.latest(PKG));
        assertNull(reg.compareAndSetLatest(PKG, H3, H2), "without a writer in between it moves");
    }

    @Test
    void aTagRePointedBetweenTheReadAndTheDeleteIsNotDeleted() throws IOException {
        reg.setTag(PKG, "v1", H1);
        try (S3Registry other = open()) {
            reg.beforeTagDelete = () -> {
                reg.beforeTagDelete = null;
                try {
                    other.setTag(PKG, "v1", H2);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            };
            assertEquals(H2, reg.compareAndDeleteTag(PKG, "v1", H1), "If-Match on the ETag read refuses it");
            reg.beforeTagDelete = null;
        }
        assertEquals(H2, reg.tag(PKG, "v1"));
        assertTrue(reg.conditionalWrites(), "S3Proxy honours If-Match on DELETE");
        assertEquals(H2, reg.compareAndDeleteTag(PKG, "v1", H1), "not what the caller saw");
        assertNull(reg.compareAndDeleteTag(PKG, "v1", H2));
        assertNull(reg.tag(PKG, "v1"));
        assertEquals("", reg.compareAndDeleteTag(PKG, "v1", H2), "gone");
    }

    @Test
    void tags() throws IOException {
        assertTrue(reg.tags(PKG).isEmpty());
        reg.setTag(PKG, "v1.0", H1);
        reg.setTag(PKG, "prod", H2);
        assertEquals(Map.of("prod", H2, "v1.0", H1), reg.tags(PKG));
        assertEquals(List.of("prod", "v1.0"), new ArrayList<>(reg.tags(PKG).keySet()));
        assertEquals(H1, reg.tag(PKG, "v1.0"));
        assertTrue(Files.isRegularFile(server.objectFile(bucket, ".quilt/quiltfs/tags/team/data/prod")));
        assertTrue(reg.deleteTag(PKG, "prod"));
        assertFalse(reg.deleteTag(PKG, "prod"));
        assertNull(reg.tag(PKG, "prod"));
        assertThrows(IllegalArgumentException.class, () -> reg.setTag(PKG, "latest", H1));
    }

    @Test
    void listsPackagesRevisionsAndPrefixes() throws IOException {
        assertTrue(reg.listPackages().isEmpty());
        reg.writePointer(PackageName.parse("b/two"), "latest", H1);
        reg.writePointer(PackageName.parse("a/one"), "1700000000", H1);
        reg.writePointer(PackageName.parse("a/one"), "1700000100", H2);
        reg.writePointer(PackageName.parse("a/one"), "latest", H2);
        assertEquals(List.of(PackageName.parse("a/one"), PackageName.parse("b/two")), reg.listPackages());
        assertEquals(List.of(new Revision(1700000100, H2), new Revision(1700000000, H1)),
                reg.revisions(PackageName.parse("a/one")));

        String ha = "abcdef" + "0".repeat(58);
        String hb = "abcdef" + "1".repeat(58);
        reg.writeManifestBytes(ha, new byte[] {'x'});
        reg.writeManifestBytes(hb, new byte[] {'y'});
        assertEquals(ha, reg.resolvePrefix("abcdef0"));
        RegistryException amb = assertThrows(RegistryException.class, () -> reg.resolvePrefix("abcdef"));
        assertTrue(amb.getMessage().contains(ha) && amb.getMessage().contains(hb), amb.getMessage());
        assertThrows(RegistryException.NotFound.class, () -> reg.resolvePrefix("fedcba"));
    }

    @Test
    void putObjectStoresOnceAndNeverOverwrites() throws IOException {
        Path a = file("a", 1000, 1);
        Checksum sa = FileHasher.hash(a, HashType.SHA2_256_CHUNKED);
        PhysicalKey ka = reg.putObject(PKG, "dir/x.bin", sa, 1000, a);
        assertEquals("s3://" + bucket + "/team/data/dir/x.bin", ka.toString());
        assertEquals(1, count(reg, "PutObject"));
        assertEquals(ka, reg.putObject(PKG, "dir/x.bin", sa, 1000, a));
        assertEquals(1, count(reg, "PutObject"), "remembered: no second upload");
        assertTrue(reg.holds(ka, sa, 1000));

        try (S3Registry again = open()) {
            assertEquals(ka, again.putObject(PKG, "dir/x.bin", sa, 1000, a));
            assertEquals(0, count(again, "PutObject"), "a HEAD proves the content is there");
            assertTrue(again.holds(ka, sa, 1000));
        }

        // Different content for the same logical key: the old object stays, the new one goes
        // to a content-addressed name.
        Path b = file("b", 2000, 2);
        Checksum sb = FileHasher.hash(b, HashType.SHA2_256_CHUNKED);
        PhysicalKey kb = reg.putObject(PKG, "dir/x.bin", sb, 2000, b);
        assertEquals("s3://" + bucket + "/.quilt/objects/" + sb.hex(), kb.toString());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(server.objectFile(bucket, "team/data/dir/x.bin")));
        assertArrayEquals(Files.readAllBytes(b), readAll(kb));
        assertFalse(reg.holds(ka, sb, 2000));
        try (S3Registry again = open()) {
            assertEquals(kb, again.putObject(PKG, "dir/x.bin", sb, 2000, b));
            assertEquals(0, count(again, "PutObject"));
        }
    }

    @Test
    void aFewObjectsIntoALargePackageAreAskedAboutWithoutAListing() throws IOException {
        Path small = file("small", 1000, 31);
        Path large = file("large", 2 << 20, 32);
        Checksum ss = FileHasher.hash(small, HashType.SHA2_256_CHUNKED);
        Checksum sl = FileHasher.hash(large, HashType.SHA2_256_CHUNKED);
        reg.placing(PKG, 2, 5000); // 2 objects of a 5,000-row revision: a listing would be 5 pages
        PhysicalKey ks = reg.putObject(PKG, "new/small", ss, 1000, small);
        PhysicalKey kl = reg.putObject(PKG, "new/large", sl, 2 << 20, large);
        assertEquals(2, count(reg, "PutObject"), "one each");
        assertEquals(1, count(reg, "HeadObject"), "a small object: one conditional PUT; a larger one: a HEAD first");
        assertEquals(0, count(reg, "ListObjectsV2"));
        try (S3Registry again = open()) {
            again.placing(PKG, 2, 5000);
            assertEquals(ks, again.putObject(PKG, "new/small", ss, 1000, small));
            assertEquals(kl, again.putObject(PKG, "new/large", sl, 2 << 20, large));
            assertEquals(0, count(again, "ListObjectsV2"));
            assertEquals(2, count(again, "HeadObject"), "each proved by a HEAD");
            assertEquals(1, count(again, "PutObject"), "the small one's conditional PUT was refused");
        }

        // Keys that changed between file and folder, found without a listing (S3Proxy keeps the
        // bucket in a file system): the content goes to its content-addressed name.
        reg.putObject(PKG, "shape/file", ss, 1000, small);
        reg.putObject(PKG, "shape/dir/inner", ss, 1000, small);
        Path other = file("other", 1000, 33);
        Checksum so = FileHasher.hash(other, HashType.SHA2_256_CHUNKED);
        try (S3Registry again = new S3Registry(bucket, server.settings(), new S3Registry.Tuning(Duration.ofMinutes(1),
                Duration.ofSeconds(30), Duration.ofSeconds(5), 2, 8, 4, 16L << 20, 8L << 20), null)) {
            again.placing(PKG, 2, 5000);
            PhysicalKey under = again.putObject(PKG, "shape/file/now-a-folder", so, 1000, other);
            assertEquals(".quilt/objects/" + so.hex(), under.path());
            PhysicalKey over = again.putObject(PKG, "shape/dir", so, 1000, other);
            assertEquals(under, over);
            // Larger than a conditional PUT without a question: the HEAD below an object fails too.
            Path large2 = file("large2", 2 << 20, 34);
            Checksum sl2 = FileHasher.hash(large2, HashType.SHA2_256_CHUNKED);
            assertEquals(".quilt/objects/" + sl2.hex(), again.putObject(PKG, "shape/file/large", sl2, 2 << 20, large2).path());
            assertEquals(0, count(again, "ListObjectsV2"));
        }
        assertArrayEquals(Files.readAllBytes(other), readAll(PhysicalKey.parse("s3://" + bucket + "/.quilt/objects/" + so.hex())));
        assertArrayEquals(Files.readAllBytes(small), Files.readAllBytes(server.objectFile(bucket, "team/data/shape/file")));
    }

    @Test
    void aRecordInTheHomeSavesEveryRequestOnTheNextPush() throws IOException {
        io.quiltfs.store.state.Home home = new io.quiltfs.store.state.Home(tmp.resolve("home"));
        S3Settings withHome = server.settings().withHome(home);
        Path small = file("small", 1000, 21);
        Path big = file("big", 20 << 20, 22);
        Checksum ss = FileHasher.hash(small, HashType.SHA2_256_CHUNKED);
        Checksum sb = FileHasher.hash(big, HashType.SHA2_256_CHUNKED);
        PhysicalKey ks;
        PhysicalKey kb;
        try (S3Registry first = new S3Registry(bucket, withHome, SMALL_RANGES, null)) {
            ks = first.putObject(PKG, "small", ss, 1000, small);
            kb = first.putObject(PKG, "big", sb, 20 << 20, big);
            assertEquals(0, count(first, "HeadObject"), "new keys are uploaded without a HEAD");
        }
        assertTrue(Files.isRegularFile(home.registryRecord("s3://" + bucket)));
        try (S3Registry second = new S3Registry(bucket, withHome, SMALL_RANGES, null)) {
            assertEquals(ks, second.putObject(PKG, "small", ss, 1000, small));
            assertEquals(kb, second.putObject(PKG, "big", sb, 20 << 20, big));
            assertEquals(Map.of("ListObjectsV2", 1L), second.requestCounts(), "one listing, nothing else");
        }
        // Another client replaces the object (here: deletes it, then stores other content): its
        // ETag changes, so the record is not trusted.
        Files.delete(server.objectFile(bucket, "team/data/small"));
        Path other = file("other", 1000, 23);
        try (S3Registry o = open()) {
            o.putObject(PKG, "small", FileHasher.hash(other, HashType.SHA2_256_CHUNKED), 1000, other);
        }
        try (S3Registry third = new S3Registry(bucket, withHome, SMALL_RANGES, null)) {
            PhysicalKey again = third.putObject(PKG, "small", ss, 1000, small);
            assertEquals(".quilt/objects/" + ss.hex(), again.path());
            assertEquals(1, count(third, "HeadObject") - 1, "a HEAD of the key, then of the addressed name");
        }
    }

    /**
     * A push from a home that never pushed there: a small object already in the bucket is proved
     * by its listed ETag (the MD5 of its bytes) without a request; a large one, stored in parts,
     * by a HEAD; other content of the same size is not taken for it.
     */
    @Test
    void anotherHomeProvesSmallObjectsFromTheListing() throws IOException {
        Path small = file("small", 1000, 31);
        Path big = file("big", 20 << 20, 32);
        Checksum ss = FileHasher.hash(small, HashType.SHA2_256_CHUNKED);
        Checksum sb = FileHasher.hash(big, HashType.SHA2_256_CHUNKED);
        PhysicalKey ks = reg.putObject(PKG, "small", ss, 1000, small);
        PhysicalKey kb = reg.putObject(PKG, "big", sb, 20 << 20, big);
        Path same = file("same-size", 1000, 33);
        Checksum s2 = FileHasher.hash(same, HashType.SHA2_256_CHUNKED);
        reg.putObject(PKG, "other", s2, 1000, same);
        try (S3Registry fresh = new S3Registry(bucket,
                server.settings().withHome(new io.quiltfs.store.state.Home(tmp.resolve("fresh-home"))), SMALL_RANGES,
                null)) {
            Registry.Placed p = fresh.place(PKG, "small", ss, 1000, small);
            assertEquals(ks, p.key());
            assertFalse(p.sent());
            assertEquals(0, count(fresh, "HeadObject"), "proved by the listing");
            assertEquals(kb, fresh.putObject(PKG, "big", sb, 20 << 20, big));
            assertEquals(1, count(fresh, "HeadObject"), "an object stored in parts is asked about");
            // Same size, other bytes: not taken for the content at "other".
            PhysicalKey elsewhere = fresh.putObject(PKG, "other", ss, 1000, small);
            assertEquals(".quilt/objects/" + ss.hex(), elsewhere.path());
            assertArrayEquals(Files.readAllBytes(same), Files.readAllBytes(server.objectFile(bucket, "team/data/other")));
        }
    }

    @Test
    void aKeyThatAppearsAfterTheListingIsNotOverwritten() throws IOException {
        Path first = file("first", 300, 11);
        reg.putObject(PKG, "first", FileHasher.hash(first, HashType.SHA2_256_CHUNKED), 300, first); // lists the package
        Path a = file("a", 500, 12);
        Path b = file("b", 600, 13);
        Checksum sa = FileHasher.hash(a, HashType.SHA2_256_CHUNKED);
        Checksum sb = FileHasher.hash(b, HashType.SHA2_256_CHUNKED);
        try (S3Registry other = open()) {
            assertEquals("team/data/late", other.putObject(PKG, "late", sa, 500, a).path());
        }
        // reg's listing predates "late": its conditional PUT is refused (412), a HEAD shows other
        // content, and b goes to its content-addressed name.
        PhysicalKey kb = reg.putObject(PKG, "late", sb, 600, b);
        assertEquals(".quilt/objects/" + sb.hex(), kb.path());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(server.objectFile(bucket, "team/data/late")));
        assertTrue(reg.conditionalWrites());
    }

    /**
     * Keys with characters XML 1.0 cannot carry (U+0001) or normalizes away (a carriage return
     * read back as a line feed): listings ask for URL-encoded keys, else the second push of such
     * a package fails to parse the listing, and a browse of a bucket holding one fails the same way.
     */
    @Test
    void keysWithControlCharactersSurviveListings() throws IOException {
        Path f = file("f", 100, 21);
        Checksum sum = FileHasher.hash(f, HashType.SHA2_256_CHUNKED);
        String[] keys = {"c\u0001trl", "c\rr", "t\tab", "n\nl"};
        for (String k : keys) {
            assertEquals("team/data/" + k, reg.putObject(PKG, k, sum, 100, f).path());
        }
        reg.writePointer(PKG, "latest", H1);
        reg.writePointer(PackageName.parse("team/other"), "latest", H2);
        Files.createDirectories(server.objectFile(bucket, ".quilt/named_packages/odd\u0001ns/x"));
        Files.writeString(server.objectFile(bucket, ".quilt/named_packages/odd\u0001ns/x/latest"), H3);
        try (S3Registry again = open()) {
            again.placing(PKG, keys.length, keys.length); // many objects for few rows: it lists
            for (String k : keys) {
                Registry.Placed p = again.place(PKG, k, sum, 100, f);
                assertEquals("team/data/" + k, p.key().path(), "listed as it is: " + k);
                assertFalse(p.sent(), k);
            }
            // Proved by the listing's ETags, as read: no key was taken for absent or asked about.
            assertEquals(0, count(again, "PutObject"));
            assertEquals(0, count(again, "HeadObject"));
            assertEquals(List.of(PKG, PackageName.parse("team/other")), again.listPackages());
        }
    }

    @Test
    void multipartUploadAndParallelRangedDownload() throws IOException {
        int size = 20 << 20; // 8 + 8 + 4 MiB: three parts, three ranges
        Path big = file("big", size, 3);
        Checksum sum = FileHasher.hash(big, HashType.SHA2_256_CHUNKED);
        PhysicalKey k = reg.putObject(PKG, "big.bin", sum, size, big);
        assertEquals(1, count(reg, "CreateMultipartUpload"));
        assertEquals(3, count(reg, "UploadPart"));
        assertEquals(size, reg.size(k));
        assertTrue(reg.holds(k, sum, size));

        Path out = tmp.resolve("out");
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            assertEquals(size, reg.download(k, size, S3Registry.RANGE, ch, null));
        }
        assertEquals(sum, FileHasher.hash(out, HashType.SHA2_256_CHUNKED));
        assertTrue(count(reg, "GetObject") >= 3);

        byte[] all = Files.readAllBytes(big);
        try (InputStream in = reg.open(k, 10 << 20, 100)) {
            byte[] got = in.readAllBytes();
            assertEquals(100, got.length);
            assertArrayEquals(java.util.Arrays.copyOfRange(all, 10 << 20, (10 << 20) + 100), got);
        }
        // A wrong size in the row is an error, not a silently short file.
        try (FileChannel ch = FileChannel.open(tmp.resolve("out2"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            RegistryException e = assertThrows(RegistryException.class, () -> reg.download(k, size - 1, S3Registry.RANGE, ch, null));
            assertTrue(e.getMessage().contains("manifest row"), e.getMessage());
        }
    }

    /**
     * Uploads carry the SHA-256 the file was hashed with (not one of the bytes as they are sent),
     * so the server refuses content that changed after hashing: small objects and parts alike,
     * and nothing becomes visible.
     */
    @Test
    void aFileChangedAfterHashingIsRefusedByTheServer() throws IOException {
        for (int size : new int[] {5_000, 20 << 20}) {
            Path f = file("changing" + size, size, 11);
            Checksum sum = FileHasher.hash(f, HashType.SHA2_256_CHUNKED);
            byte[] b = Files.readAllBytes(f);
            b[size - 100] ^= 1; // same size, one bit off, in the last part
            Files.write(f, b);
            String key = "changing" + size + ".bin";
            RegistryException e = assertThrows(RegistryException.class, () -> reg.putObject(PKG, key, sum, size, f));
            assertTrue(e.getMessage().contains(key) && e.getMessage().contains("refused the content"), e.getMessage());
            assertThrows(RegistryException.NotFound.class, () -> reg.size(PhysicalKey.ofS3(bucket, "team/data/" + key, null)));
        }
    }

    /**
     * Around the chunk size: a file of one chunk is one PUT, a larger one a multipart upload of
     * its chunks, and every request carries a digest the hashing computed (no second pass over
     * the file: a file changed after hashing is refused, not stored under the old row). The
     * object records the row's checksum in its metadata and, where S3Proxy keeps it, as S3's own
     * checksum (the composite of the parts is the {@code sha2-256-chunked} value).
     */
    @Test
    void uploadsAroundTheChunkSizeCarryTheHashingsDigests() throws IOException {
        long mib8 = 8L << 20;
        try (var raw = S3ForeignObjectsTest.client(server.endpoint(),
                software.amazon.awssdk.core.checksums.RequestChecksumCalculation.WHEN_REQUIRED)) {
            for (long size : new long[] {mib8, mib8 + 1, 2 * mib8, 2 * mib8 + 1}) {
                Path f = file("around" + size, (int) size, size);
                Checksum sum = FileHasher.hash(f, HashType.SHA2_256_CHUNKED);
                Map<String, Long> before = Map.copyOf(reg.requestCounts());
                String key = "around" + size + ".bin";
                PhysicalKey k = reg.putObject(PKG, key, sum, size, f);
                long chunks = io.quiltfs.store.hash.ChunkSize.count(size);
                long puts = count(reg, "PutObject") - before.getOrDefault("PutObject", 0L);
                long parts = count(reg, "UploadPart") - before.getOrDefault("UploadPart", 0L);
                assertEquals(chunks == 1 ? 1 : 0, puts, size + " bytes: " + reg.requestCounts());
                assertEquals(chunks == 1 ? 0 : chunks, parts, size + " bytes: " + reg.requestCounts());
                assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(server.objectFile(bucket, "team/data/" + key)));
                var head = raw.headObject(r -> r.bucket(bucket).key(k.path())
                        .checksumMode(software.amazon.awssdk.services.s3.model.ChecksumMode.ENABLED));
                assertEquals("sha2-256-chunked:" + sum.value(), head.metadata().get(S3Registry.CHECKSUM_META));
                String s3sum = head.checksumSHA256();
                if (s3sum != null) {
                    byte[] whole = java.util.Base64.getDecoder().decode(s3sum.replaceFirst("-[0-9]+$", ""));
                    if (chunks == 1) {
                        assertTrue(sum.sameDigest(io.quiltfs.store.hash.Sha256.newDigest().digest(whole)), s3sum);
                    } else {
                        assertEquals(sum.value() + "-" + chunks, s3sum);
                    }
                }
                assertTrue(reg.holds(k, sum, size));
            }
            // Changed after hashing (same size): the digests sent are the hashing's, so S3 refuses it.
            long size = mib8 + 1;
            Path f = file("changed", (int) size, 99);
            Checksum sum = FileHasher.hash(f, HashType.SHA2_256_CHUNKED);
            byte[] b = Files.readAllBytes(f);
            b[3] ^= 1;
            Files.write(f, b);
            RegistryException e = assertThrows(RegistryException.class, () -> reg.putObject(PKG, "changed.bin", sum, size, f));
            assertTrue(e.getMessage().contains("refused the content"), e.getMessage());
            assertThrows(RegistryException.NotFound.class, () -> reg.size(PhysicalKey.ofS3(bucket, "team/data/changed.bin", null)));
        }
    }

    @Test
    void emptyAndSmallObjects() throws IOException {
        Path empty = file("empty", 0, 4);
        Checksum s0 = FileHasher.hash(empty, HashType.SHA2_256_CHUNKED);
        PhysicalKey k0 = reg.putObject(PKG, "empty", s0, 0, empty);
        assertEquals(0, readAll(k0).length);
        Path out = tmp.resolve("out0");
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            assertEquals(0, reg.download(k0, 0, S3Registry.RANGE, ch, null));
        }
        RegistryException.NotFound nf = assertThrows(RegistryException.NotFound.class,
                () -> readAll(PhysicalKey.ofS3(bucket, "team/data/missing", null)));
        assertTrue(nf.getMessage().contains("team/data/missing"), nf.getMessage());
    }

    @Test
    void versionIdIsSentOnReads() throws IOException {
        // S3Proxy's filesystem backend has no versioning: pushes record no version id, and a key
        // that names one is read with it (the server rejects or ignores it, never mixes).
        Path a = file("a", 10, 5);
        Checksum sa = FileHasher.hash(a, HashType.SHA2_256_CHUNKED);
        PhysicalKey k = reg.putObject(PKG, "v.bin", sa, 10, a);
        assertNull(k.versionId());
        assertEquals(PhysicalKey.parse("s3://" + bucket + "/team/data/v.bin?versionId=abc%2Fd").versionId(), "abc/d");
    }

    @Test
    void readsOtherBucketsThroughOneClient() throws IOException {
        String other = server.newBucket();
        Path a = file("a", 100, 6);
        Checksum sa = FileHasher.hash(a, HashType.SHA2_256_CHUNKED);
        PhysicalKey k;
        try (S3Registry o = S3Registry.open(other, server.settings())) {
            k = o.putObject(PKG, "x", sa, 100, a);
        }
        assertTrue(reg.canRead(k));
        assertArrayEquals(Files.readAllBytes(a), readAll(k));
        ObjectSource viaLocal = Registries.sourceFor(k, new LocalRegistry(tmp), server.settings());
        try (InputStream in = viaLocal.open(k, 0, -1)) {
            assertArrayEquals(Files.readAllBytes(a), in.readAllBytes());
        }
    }

    @Test
    void missingBucketIsOneClearError() throws IOException {
        try (S3Registry r = S3Registry.open("no-such-bucket-here", server.settings())) {
            RegistryException e = assertThrows(RegistryException.class, () -> r.latest(PKG));
            assertTrue(e instanceof RegistryException.NotFound, e.toString());
            assertTrue(e.getMessage().contains("no bucket 'no-such-bucket-here'"), e.getMessage());
            RegistryException l = assertThrows(RegistryException.class, r::listPackages);
            assertTrue(l.getMessage().contains("no bucket"), l.getMessage());
        }
    }

    @Test
    void aMissingBucketIsNotAMissingObjectOnHeadRequests() throws IOException {
        // A 404 on a HEAD has no body to tell a missing key from a missing bucket.
        String noBucket = "no bucket 'no-such-bucket-here' at " + server.endpoint();
        try (S3Registry r = S3Registry.open("no-such-bucket-here", server.settings())) {
            for (org.junit.jupiter.api.function.Executable e : List.<org.junit.jupiter.api.function.Executable>of(
                    () -> r.hasManifest(H1),
                    () -> r.manifestTime(H1),
                    () -> r.deleteTag(PKG, "v1"),
                    () -> r.size(PhysicalKey.ofS3("no-such-bucket-here", "team/data/x", null)),
                    () -> r.holds(PhysicalKey.ofS3("no-such-bucket-here", "team/data/x", null),
                            Checksum.of(HashType.SHA2_256_CHUNKED, "a".repeat(64)), 1),
                    () -> r.resolve(PackageRef.parse("team/data@" + H1)))) {
                RegistryException.NotFound nf = assertThrows(RegistryException.NotFound.class, e);
                assertTrue(nf.getMessage().startsWith(noBucket), nf.getMessage());
            }
        }
        // An existing bucket: its missing keys are just missing, and the bucket is asked about once.
        assertFalse(reg.hasManifest(H1));
        assertFalse(reg.deleteTag(PKG, "v1"));
        assertEquals(-1, reg.manifestTime(H1));
        assertEquals(1, count(reg, "HeadBucket"));
        assertEquals(3, count(reg, "HeadObject"));
    }

    @Test
    void customEndpointsAreAddressedByPath() throws IOException {
        // The SDK goes by path for an IP address by itself, not for a host name: without
        // path-style addressing this would ask for qf-....localhost.
        try (S3Registry r = new S3Registry(bucket, new S3Settings("http://localhost:" + server.port(), "us-east-1"),
                SMALL_RANGES, null)) {
            r.writePointer(PKG, "latest", H1);
            assertEquals(H1, r.latest(PKG));
            assertEquals(List.of(PKG), r.listPackages());
        }
        assertEquals(H1, Files.readString(server.objectFile(bucket, ".quilt/named_packages/team/data/latest")));
    }

    @Test
    void theManifestsTimeIsOneHead() throws IOException {
        reg.writeManifestBytes(H1, "{}".getBytes(StandardCharsets.UTF_8));
        Files.setLastModifiedTime(server.objectFile(bucket, ".quilt/packages/" + H1),
                java.nio.file.attribute.FileTime.fromMillis(1_500_000_000_000L));
        try (S3Registry r = open()) {
            assertEquals(1_500_000_000L, r.manifestTime(H1));
            assertEquals(Map.of("HeadObject", 1L), r.requestCounts());
        }
    }

    @Test
    void wrongCredentialsNameTheKeyNotTheSecret() throws IOException {
        String secret = "this-secret-must-never-be-printed";
        var tuning = new S3Registry.Tuning(Duration.ofSeconds(20), Duration.ofSeconds(10), Duration.ofSeconds(2), 2, 2, 4, 16 << 20, 8 << 20);
        try (S3Registry r = new S3Registry(bucket, server.settings(), tuning, new String[] {S3ProxyServer.ACCESS_KEY, secret})) {
            RegistryException e = assertThrows(RegistryException.class, () -> r.latest(PKG));
            assertTrue(e.getMessage().contains("s3://" + bucket + "/.quilt/named_packages/team/data/latest"), e.getMessage());
            assertTrue(e.getMessage().contains("refused") || e.getMessage().contains("denied"), e.getMessage());
            assertFalse(e.getMessage().contains(secret), e.getMessage());
            assertFalse(e.getMessage().contains(S3ProxyServer.SECRET_KEY), e.getMessage());
        }
        try (S3Registry r = new S3Registry(bucket, server.settings(), tuning, new String[] {"unknown-key", secret})) {
            RegistryException e = assertThrows(RegistryException.class, () -> r.latest(PKG));
            assertTrue(e.getMessage().contains("refused") || e.getMessage().contains("denied"), e.getMessage());
            assertFalse(e.getMessage().contains(secret), e.getMessage());
        }
    }

    @Test
    void unreachableEndpointIsOneClearError() throws IOException {
        int closed;
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0)) {
            closed = ss.getLocalPort();
        }
        var tuning = new S3Registry.Tuning(Duration.ofSeconds(5), Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 2, 4, 16 << 20, 8 << 20);
        try (S3Registry r = new S3Registry(bucket, new S3Settings("http://127.0.0.1:" + closed, null), tuning, null)) {
            RegistryException e = assertThrows(RegistryException.class, () -> r.latest(PKG));
            assertTrue(e.getMessage().startsWith("cannot reach S3 at http://127.0.0.1:" + closed), e.getMessage());
        }
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> S3Registry.open(bucket, new S3Settings("127.0.0.1:9000", null)));
        assertTrue(bad.getMessage().contains("invalid S3 endpoint"), bad.getMessage());
        IllegalArgumentException port = assertThrows(IllegalArgumentException.class,
                () -> S3Registry.open(bucket, new S3Settings("http://127.0.0.1:99999", null)));
        assertTrue(port.getMessage().startsWith("invalid S3 endpoint 'http://127.0.0.1:99999'"), port.getMessage());
    }

    byte[] readAll(PhysicalKey k) throws IOException {
        try (InputStream in = reg.open(k, 0, -1)) {
            return in.readAllBytes();
        }
    }

    static <T> T quietly(Callable<T> c) throws Exception {
        return c.call();
    }
}
