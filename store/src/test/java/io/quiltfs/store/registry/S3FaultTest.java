package io.quiltfs.store.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.cache.ChecksumMismatchException;
import io.quiltfs.store.cache.Fetcher;
import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.FaultProxy;
import io.quiltfs.store.testing.S3ProxyServer;
import io.quiltfs.store.workflow.Progress;
import io.quiltfs.store.workflow.Publisher;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults between the S3 registry and a real server, injected by a proxy on loopback: retries
 * recover from errors, drops and stalls, and nothing corrupt or partial is ever accepted.
 */
class S3FaultTest {
    static final PackageName PKG = PackageName.parse("team/data");
    static final int BIG = 20 << 20;
    static final S3Registry.Tuning FAST = new S3Registry.Tuning(Duration.ofSeconds(20), Duration.ofSeconds(1),
            Duration.ofSeconds(1), 4, 4, 4, 16L << 20, 8L << 20);

    @TempDir
    Path tmp;
    S3ProxyServer server;
    FaultProxy proxy;
    String bucket;
    S3Registry reg;

    @BeforeEach
    void setUp() throws IOException {
        server = S3ProxyServer.shared();
        bucket = server.newBucket();
        proxy = new FaultProxy(server.port());
        reg = new S3Registry(bucket, new S3Settings(proxy.endpoint(), "us-east-1"), FAST, null);
    }

    @AfterEach
    void tearDown() throws IOException {
        reg.close();
        proxy.close();
    }

    /**
     * A push without a listing sends a small object a conditional PUT without asking first; a
     * server that does not implement conditional writes (501) must not then be written to
     * blindly: the object an earlier revision points to stays, the new content goes elsewhere.
     */
    @Test
    void withoutConditionalWritesAnEarlierObjectIsNeverOverwritten() throws IOException {
        Path a = file("a", 1000, 41);
        Path b = file("b", 1000, 42);
        Checksum sb = FileHasher.hash(b, HashType.SHA2_256_CHUNKED);
        reg.putObject(PKG, "a", FileHasher.hash(a, HashType.SHA2_256_CHUNKED), 1000, a);
        try (S3Registry fresh = new S3Registry(bucket, new S3Settings(proxy.endpoint(), "us-east-1"), FAST, null)) {
            fresh.placing(PKG, 1, 5000); // a few objects into a large package: no listing
            FaultProxy.Rule unsupported = proxy.error(501, "NotImplemented", "", "PUT", "/team/data/a", 1);
            PhysicalKey k = fresh.putObject(PKG, "a", sb, 1000, b);
            assertEquals(1, unsupported.fired());
            assertFalse(fresh.conditionalWrites());
            assertEquals(".quilt/objects/" + sb.hex(), k.path());
        }
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(server.objectFile(bucket, "team/data/a")));
    }

    Path file(String name, int size, long seed) throws IOException {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        Path p = tmp.resolve(name);
        Files.write(p, b);
        return p;
    }

    Entry pushBig() throws IOException {
        Path big = file("big", BIG, 7);
        Checksum sum = FileHasher.hash(big, HashType.SHA2_256_CHUNKED);
        PhysicalKey k = reg.putObject(PKG, "big.bin", sum, BIG, big);
        return new Entry("big.bin", k.toString(), BIG, sum);
    }

    Fetcher fetcher() throws IOException {
        return new Fetcher(new ObjectCache(new Home(tmp.resolve("home"))), pk -> reg);
    }

    @Test
    void throttlingAndServerErrorsAreRetried() throws IOException {
        FaultProxy.Rule slow = proxy.status(503, null, null, 1);
        FaultProxy.Rule err = proxy.status(500, null, null, 1);
        String h = "a".repeat(64);
        reg.writePointer(PKG, "latest", h);
        assertEquals(h, reg.latest(PKG));
        assertEquals(1, slow.fired());
        assertEquals(1, err.fired());

        // A multipart upload whose parts fail at first still completes, and reads back intact.
        FaultProxy.Rule parts = proxy.status(500, "PUT", "partNumber=", 2);
        Entry e = pushBig();
        assertEquals(2, parts.fired());
        assertEquals(e.hash(), FileHasher.hash(fetcher().fetch(e), HashType.SHA2_256_CHUNKED));
    }

    @Test
    void lostAnswersToConditionalWritesAreNotConflicts() throws IOException {
        String base = "c".repeat(64);
        String mine = "d".repeat(64);
        reg.writePointer(PKG, "latest", base);
        // The PUT of latest reaches the server, its answer is lost, the SDK retries, and the
        // retry's If-Match fails because the first attempt already moved latest.
        FaultProxy.Rule lost = proxy.dropBody("PUT", "named_packages/team/data/latest", -1, 1);
        assertNull(reg.compareAndSetLatest(PKG, base, mine));
        assertEquals(1, lost.fired());
        assertEquals(mine, reg.latest(PKG));

        // Same for a new object uploaded with If-None-Match: the retry is refused, a HEAD proves
        // the object is ours, and it is used where it is.
        Path small = file("small", 1000, 10);
        Checksum sum = FileHasher.hash(small, HashType.SHA2_256_CHUNKED);
        FaultProxy.Rule lostPut = proxy.dropBody("PUT", "team/data/new.bin", -1, 1);
        PhysicalKey k = reg.putObject(PKG, "new.bin", sum, 1000, small);
        assertEquals(1, lostPut.fired());
        assertEquals("team/data/new.bin", k.path());
        assertTrue(reg.holds(k, sum, 1000));
    }

    @Test
    void readsSendTheVersionIdOfThePhysicalKey() throws IOException {
        // S3Proxy's filesystem backend has no versions; the proxy shows what goes on the wire.
        FaultProxy.Rule versioned = proxy.status(404, "GET", "versionId=v%2B1%2F2", -1);
        PhysicalKey k = PhysicalKey.parse("s3://" + bucket + "/team/data/x.bin?versionId=v%2B1%2F2");
        assertEquals("v+1/2", k.versionId());
        assertThrows(RegistryException.class, () -> reg.open(k, 0, -1).read());
        assertTrue(versioned.fired() >= 1, "the GET named the version");
    }

    @Test
    void wrongRegionAndAccessDeniedAreOneClearLine() {
        proxy.error(301, "PermanentRedirect", "x-amz-bucket-region: eu-west-1\r\n", "GET", "latest", -1);
        RegistryException region = assertThrows(RegistryException.class, () -> reg.latest(PKG));
        assertEquals("bucket '" + bucket + "' is not in region us-east-1: it is in eu-west-1 (set AWS_REGION=eu-west-1)",
                region.getMessage());
        proxy.clear();
        proxy.error(403, "AccessDenied", "", "GET", "latest", -1);
        RegistryException denied = assertThrows(RegistryException.class, () -> reg.latest(PKG));
        assertEquals("access denied to s3://" + bucket + "/.quilt/named_packages/team/data/latest at " + proxy.endpoint()
                + ": the credentials in use lack permission (check the bucket policy, AWS_PROFILE or the IAM role)",
                denied.getMessage());
        assertFalse(denied.getMessage().contains(S3ProxyServer.SECRET_KEY));
    }

    @Test
    void pushesNeedNoPermissionToAskWhetherTheBucketIsVersioned() throws IOException {
        // Minimal policies (GetObject, PutObject, ListBucket) lack s3:GetBucketVersioning.
        FaultProxy.Rule denied = proxy.error(403, "AccessDenied", "", "GET", "versioning", -1);
        Path a = file("a", 1000, 1);
        Checksum sa = FileHasher.hash(a, HashType.SHA2_256_CHUNKED);
        PhysicalKey atDefault = PhysicalKey.ofS3(bucket, "team/data/f.txt", null);
        assertEquals(atDefault, reg.place(PKG, "f.txt", sa, 1000, a).key());

        // Changed content at the same logical key, from another instance: whether the bucket keeps
        // versions is not known, so the new content goes to its own key (safe either way).
        Path b = file("b", 1000, 2);
        Checksum sb = FileHasher.hash(b, HashType.SHA2_256_CHUNKED);
        try (S3Registry other = new S3Registry(bucket, new S3Settings(proxy.endpoint(), "us-east-1"), FAST, null)) {
            Registry.Placed p = other.place(PKG, "f.txt", sb, 1000, b);
            assertTrue(p.sent());
            assertEquals(PhysicalKey.ofS3(bucket, ".quilt/objects/" + Home.objectName(sb), null), p.key());
        }
        // The same content again: the listing's ETag alone proves nothing when the bucket may
        // keep versions (the version id must be recorded), so a HEAD does.
        try (S3Registry third = new S3Registry(bucket, new S3Settings(proxy.endpoint(), "us-east-1"), FAST, null)) {
            Registry.Placed p = third.place(PKG, "f.txt", sa, 1000, a);
            assertFalse(p.sent());
            assertEquals(atDefault, p.key());
            assertEquals(1L, third.requestCounts().get("HeadObject"), third.requestCounts().toString());
        }
        assertTrue(denied.fired() >= 2, "asked and refused: " + denied.fired());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(server.objectFile(bucket, "team/data/f.txt")));
    }

    @Test
    void aServerThatStopsAnsweringIsOneClearLine() throws IOException {
        S3Registry.Tuning quick = new S3Registry.Tuning(Duration.ofSeconds(20), Duration.ofSeconds(1),
                Duration.ofSeconds(1), 2, 2, 4, 16L << 20, 8L << 20);
        reg.writePointer(PKG, "latest", "a".repeat(64));
        FaultProxy.Rule stall = proxy.stallBody("GET", "latest", 10, Duration.ofSeconds(10), -1);
        try (S3Registry r = new S3Registry(bucket, new S3Settings(proxy.endpoint(), "us-east-1"), quick, null)) {
            RegistryException e = assertThrows(RegistryException.class, () -> r.latest(PKG));
            assertEquals(proxy.endpoint() + " did not answer in time for s3://" + bucket
                    + "/.quilt/named_packages/team/data/latest (after 2 attempts)", e.getMessage());
        }
        assertEquals(2, stall.fired());
        // The same when the attempt's own deadline ends it (a body that trickles never trips the
        // socket timeout).
        S3Registry.Tuning deadline = new S3Registry.Tuning(Duration.ofSeconds(1), Duration.ofSeconds(30),
                Duration.ofSeconds(1), 2, 2, 4, 16L << 20, 8L << 20);
        try (S3Registry r = new S3Registry(bucket, new S3Settings(proxy.endpoint(), "us-east-1"), deadline, null)) {
            RegistryException e = assertThrows(RegistryException.class, () -> r.latest(PKG));
            assertTrue(e.getMessage().startsWith(proxy.endpoint() + " did not answer in time for s3://" + bucket
                    + "/.quilt/named_packages/team/data/latest"), e.getMessage());
        }
    }

    @Test
    void persistentErrorsFailWithOneClearLine() {
        proxy.status(500, null, null, -1);
        RegistryException e = assertThrows(RegistryException.class, () -> reg.latest(PKG));
        assertTrue(e.getMessage().contains("s3://" + bucket + "/.quilt/named_packages/team/data/latest"), e.getMessage());
        assertTrue(e.getMessage().contains("InternalError (HTTP 500)"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertEquals(FAST.maxAttempts(), proxy.requests());
    }

    @Test
    void droppedConnectionsResumeMidBody() throws IOException {
        Entry e = pushBig();
        FaultProxy.Rule drop = proxy.dropBody("GET", "big.bin", 1 << 20, 3);
        Path got = fetcher().fetch(e);
        assertEquals(3, drop.fired());
        assertEquals(e.hash(), FileHasher.hash(got, HashType.SHA2_256_CHUNKED));

        // A plain stream resumes too.
        FaultProxy.Rule again = proxy.dropBody("GET", "big.bin", 3 << 20, 1);
        try (InputStream in = reg.open(PhysicalKey.parse(e.physicalKey()), 0, -1)) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("big")), in.readAllBytes());
        }
        assertEquals(1, again.fired());
    }

    @Test
    void stalledBodiesTimeOutAndResume() throws IOException {
        Entry e = pushBig();
        FaultProxy.Rule stall = proxy.stallBody("GET", "big.bin", 100_000, Duration.ofSeconds(10), 2);
        long t0 = System.nanoTime();
        Path got = fetcher().fetch(e);
        assertEquals(2, stall.fired());
        assertEquals(e.hash(), FileHasher.hash(got, HashType.SHA2_256_CHUNKED));
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(9).toNanos(), "the socket timeout cut the stall short");
    }

    @Test
    void corruptBodiesNeverEnterTheCache() throws IOException {
        Entry e = pushBig();
        proxy.corruptBody("GET", "big.bin", 1_000, -1); // byte 1000 of every response body
        Fetcher f = fetcher();
        assertThrows(ChecksumMismatchException.class, () -> f.fetch(e));
        assertNull(f.cache().lookup(e.hash()));
        try (Stream<Path> s = Files.list(tmp.resolve("home/.quilt/tmp"))) {
            assertEquals(0, s.count(), "no temporary file left behind");
        }
        // Once the wire is healthy again the same fetch succeeds.
        proxy.clear();
        assertEquals(e.hash(), FileHasher.hash(f.fetch(e), HashType.SHA2_256_CHUNKED));
    }

    @Test
    void aFailedUploadLeavesNoObjectAndNeverMovesLatest() throws IOException {
        String base = "b".repeat(64);
        reg.writePointer(PKG, "latest", base);
        proxy.status(500, "PUT", "partNumber=2", -1);
        Path big = file("big", BIG, 8);
        Checksum sum = FileHasher.hash(big, HashType.SHA2_256_CHUNKED);
        Path small = file("small", 100, 9);
        Checksum ssum = FileHasher.hash(small, HashType.SHA2_256_CHUNKED);
        Manifest m = Manifest.builder().message("half")
                .add(new Entry("big.bin", big.toUri().toString(), BIG, sum))
                .add(new Entry("small.bin", small.toUri().toString(), 100, ssum)).build();
        Map<String, Path> local = Map.of("big.bin", big, "small.bin", small);
        Publisher p = new Publisher(reg, Clock.systemUTC());
        RegistryException e = assertThrows(RegistryException.class,
                () -> p.publish(PKG, m, en -> local.get(en.logicalKey()), base, false, Progress.NONE));
        assertTrue(e.getMessage().contains("team/data/big.bin"), e.getMessage());
        assertFalse(server.keys(bucket).contains("team/data/big.bin"), "no partial object is visible");
        assertEquals(base, reg.latest(PKG));
        assertFalse(reg.hasManifest(m.topHash()));
    }
}
