package io.quiltfs.store.registry;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.hash.Sha256;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.FaultProxy;
import io.quiltfs.store.testing.S3ProxyServer;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.ChecksumType;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/**
 * Content that another client (quilt3, the AWS CLI) stored at a package's keys, without
 * quiltfs's metadata, is recognised by S3's own checksums or ETags and never uploaded again;
 * other content of the same size is never taken for it. The other client is the AWS SDK used
 * the way quilt3 uses boto3 (SHA-256 checksums, 8 MiB parts), against the real S3Proxy.
 */
class S3ForeignObjectsTest {
    static final PackageName PKG = PackageName.parse("team/data");
    static final int BIG = 20 << 20; // 8 + 8 + 4 MiB: three parts, three chunks
    static final long PART = 8L << 20;

    @TempDir
    Path tmp;
    S3ProxyServer server;
    String bucket;
    S3Client other;

    @BeforeEach
    void setUp() throws IOException {
        server = S3ProxyServer.shared();
        bucket = server.newBucket();
        other = client(server.endpoint(), RequestChecksumCalculation.WHEN_REQUIRED);
    }

    @AfterEach
    void tearDown() {
        other.close();
    }

    static S3Client client(String endpoint, RequestChecksumCalculation checksums) {
        return S3Client.builder().region(Region.US_EAST_1).endpointOverride(URI.create(endpoint))
                .forcePathStyle(true).httpClientBuilder(Apache5HttpClient.builder())
                .requestChecksumCalculation(checksums)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(S3ProxyServer.ACCESS_KEY, S3ProxyServer.SECRET_KEY)))
                .build();
    }

    Path file(String name, int size, long seed) throws IOException {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        Path p = tmp.resolve(name);
        Files.write(p, b);
        return p;
    }

    S3Registry open(String endpoint, String home) {
        return new S3Registry(bucket, new S3Settings(endpoint, "us-east-1").withHome(new Home(tmp.resolve(home))),
                S3RegistryTest.SMALL_RANGES, null);
    }

    /** As quilt3 stores a small file: one PUT carrying its SHA-256 checksum, no metadata. */
    void putLikeQuilt3(String key, Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        String sha = Base64.getEncoder().encodeToString(Sha256.newDigest().digest(bytes));
        other.putObject(r -> r.bucket(bucket).key(key).checksumSHA256(sha), RequestBody.fromBytes(bytes));
    }

    /**
     * As quilt3 stores a large file: a multipart upload of 8 MiB parts, each with its SHA-256
     * ({@code withChecksums}), or as older clients do, without checksums.
     */
    void multipartLikeQuilt3(String key, Path file, boolean withChecksums) throws IOException {
        byte[] all = Files.readAllBytes(file);
        String id = other.createMultipartUpload(r -> r.bucket(bucket).key(key)
                .checksumAlgorithm(withChecksums ? ChecksumAlgorithm.SHA256 : null)).uploadId();
        List<CompletedPart> parts = new ArrayList<>();
        for (int i = 0; i * PART < all.length; i++) {
            byte[] part = Arrays.copyOfRange(all, (int) (i * PART), (int) Math.min(all.length, (i + 1) * PART));
            String sha = withChecksums ? Base64.getEncoder().encodeToString(Sha256.newDigest().digest(part)) : null;
            int n = i + 1;
            String etag = other.uploadPart(r -> r.bucket(bucket).key(key).uploadId(id).partNumber(n).checksumSHA256(sha),
                    RequestBody.fromBytes(part)).eTag();
            parts.add(CompletedPart.builder().partNumber(n).eTag(etag).checksumSHA256(sha).build());
        }
        other.completeMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(id).multipartUpload(m -> m.parts(parts)));
    }

    static long count(S3Registry r, String op) {
        return r.requestCounts().getOrDefault(op, 0L);
    }

    static void assertNothingUploaded(S3Registry r) {
        for (String op : List.of("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload")) {
            assertEquals(0, count(r, op), op + " in " + r.requestCounts());
        }
    }

    @Test
    void aMultipartUploadByQuilt3IsRecognisedByItsCompositeChecksum() throws IOException {
        Path big = file("big", BIG, 1);
        Checksum sum = FileHasher.hash(big, HashType.SHA2_256_CHUNKED);
        multipartLikeQuilt3("team/data/big.bin", big, true);
        Path same = file("same-size", BIG, 2);
        multipartLikeQuilt3("team/data/other.bin", same, true);
        PhysicalKey existing = PhysicalKey.ofS3(bucket, "team/data/big.bin", null);

        try (S3Registry reg = open(server.endpoint(), "home")) {
            Registry.Placed p = reg.place(PKG, "big.bin", sum, BIG, big);
            assertFalse(p.sent());
            assertEquals(existing, p.key());
            assertNothingUploaded(reg);
            assertEquals(1, count(reg, "HeadObject"), reg.requestCounts().toString());

            // Same size, other bytes: not taken for it; the content goes to its own name and
            // the other object is left as it was.
            Registry.Placed q = reg.place(PKG, "other.bin", sum, BIG, big);
            assertTrue(q.sent());
            assertEquals(PhysicalKey.ofS3(bucket, ".quilt/objects/" + Home.objectName(sum), null), q.key());
            assertArrayEquals(Files.readAllBytes(same), Files.readAllBytes(server.objectFile(bucket, "team/data/other.bin")));
            assertFalse(reg.holds(PhysicalKey.ofS3(bucket, "team/data/other.bin", null), sum, BIG));
            assertFalse(reg.holds(existing, sum, BIG - 1), "proved for its size only");
        }
        // The proof is in the home's record: the next push from it asks nothing but the listing.
        try (S3Registry again = open(server.endpoint(), "home")) {
            assertEquals(existing, again.place(PKG, "big.bin", sum, BIG, big).key());
            assertEquals(Map.of("ListObjectsV2", 1L), again.requestCounts());
        }
        try (S3Registry fresh = open(server.endpoint(), "home-holds")) {
            assertFalse(fresh.holds(existing, sum, BIG - 1), "sizes must match");
            assertTrue(fresh.holds(existing, sum, BIG));
        }
        // A whole-file SHA256 row is proved by the same checksum (the file's chunks are read).
        try (S3Registry hex = open(server.endpoint(), "home-hex")) {
            Registry.Placed p = hex.place(PKG, "big.bin", FileHasher.hash(big, HashType.SHA256), BIG, big);
            assertFalse(p.sent());
            assertEquals(existing, p.key());
            assertNothingUploaded(hex);
        }
    }

    /**
     * When the listing cannot prove a small object (the bucket may keep versions: here the
     * credentials may not ask), a HEAD with checksums does, from S3's full-object SHA-256.
     */
    @Test
    void aSinglePutByQuilt3IsRecognisedByItsChecksumWhenTheBucketMayKeepVersions() throws IOException {
        Path small = file("small", 1000, 3);
        Path empty = Files.createFile(tmp.resolve("empty"));
        Path same = file("same-size", 1000, 4);
        putLikeQuilt3("team/data/small.txt", small);
        putLikeQuilt3("team/data/empty.txt", empty);
        putLikeQuilt3("team/data/other.txt", same);
        Checksum ss = FileHasher.hash(small, HashType.SHA2_256_CHUNKED);
        Checksum se = FileHasher.hash(empty, HashType.SHA2_256_CHUNKED);
        try (FaultProxy proxy = new FaultProxy(server.port());
             S3Registry reg = open(proxy.endpoint(), "home")) {
            proxy.error(403, "AccessDenied", "", "GET", "versioning", -1);
            Registry.Placed p = reg.place(PKG, "small.txt", ss, 1000, small);
            assertFalse(p.sent());
            assertEquals(PhysicalKey.ofS3(bucket, "team/data/small.txt", null), p.key());
            Registry.Placed e = reg.place(PKG, "empty.txt", se, 0, empty);
            assertFalse(e.sent(), "the empty file's value is the SHA-256 of nothing");
            assertEquals(PhysicalKey.ofS3(bucket, "team/data/empty.txt", null), e.key());
            assertNothingUploaded(reg);
            assertEquals(2, count(reg, "HeadObject"), reg.requestCounts().toString());

            Registry.Placed q = reg.place(PKG, "other.txt", ss, 1000, small);
            assertTrue(q.sent());
            assertEquals(".quilt/objects/" + Home.objectName(ss), q.key().path());
            assertArrayEquals(Files.readAllBytes(same), Files.readAllBytes(server.objectFile(bucket, "team/data/other.txt")));
        }
        try (S3Registry reg = open(server.endpoint(), "another-home")) {
            PhysicalKey k = PhysicalKey.ofS3(bucket, "team/data/small.txt", null);
            assertTrue(reg.holds(k, FileHasher.hash(small, HashType.SHA256), 1000), "hex SHA256 row");
            assertTrue(reg.holds(k, ss, 1000), "one chunk: the SHA-256 of the object's SHA-256");
            assertFalse(reg.holds(k, FileHasher.hash(same, HashType.SHA2_256_CHUNKED), 1000));
            assertFalse(reg.holds(k, FileHasher.hash(same, HashType.SHA256), 1000));
        }
    }

    /** Objects stored without checksums (older clients, s3fs) are proved by their ETags. */
    @Test
    void objectsWithoutChecksumsAreRecognisedByTheirEtags() throws IOException {
        Path big = file("big", BIG, 5);
        Path same = file("same-size", BIG, 6);
        Path small = file("small", 1000, 7);
        multipartLikeQuilt3("team/data/big.bin", big, false);
        multipartLikeQuilt3("team/data/other.bin", same, false);
        other.putObject(r -> r.bucket(bucket).key("team/data/small.txt"), RequestBody.fromFile(small));
        assertNull(other.headObject(r -> r.bucket(bucket).key("team/data/big.bin")
                .checksumMode(software.amazon.awssdk.services.s3.model.ChecksumMode.ENABLED)).checksumSHA256());
        Checksum sum = FileHasher.hash(big, HashType.SHA2_256_CHUNKED);
        try (S3Registry reg = open(server.endpoint(), "home")) {
            Registry.Placed p = reg.place(PKG, "big.bin", sum, BIG, big);
            assertFalse(p.sent());
            assertEquals(PhysicalKey.ofS3(bucket, "team/data/big.bin", null), p.key());
            assertNothingUploaded(reg);

            Registry.Placed q = reg.place(PKG, "other.bin", sum, BIG, big);
            assertTrue(q.sent());
            assertEquals(".quilt/objects/" + Home.objectName(sum), q.key().path());
            assertArrayEquals(Files.readAllBytes(same), Files.readAllBytes(server.objectFile(bucket, "team/data/other.bin")));
        }
        // A small object's MD5 ETag, by HEAD, when the listing cannot prove it.
        Checksum ss = FileHasher.hash(small, HashType.SHA2_256_CHUNKED);
        try (FaultProxy proxy = new FaultProxy(server.port());
             S3Registry reg = open(proxy.endpoint(), "home2")) {
            proxy.error(403, "AccessDenied", "", "GET", "versioning", -1);
            Registry.Placed p = reg.place(PKG, "small.txt", ss, 1000, small);
            assertFalse(p.sent());
            assertEquals("team/data/small.txt", p.key().path());
            assertNothingUploaded(reg);
        }
    }

    /** The rules by which S3's checksums prove a row, including those S3Proxy cannot show. */
    @Test
    void checksumRules() {
        byte[] data = "hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] sha = Sha256.newDigest().digest(data);
        String full = Base64.getEncoder().encodeToString(sha);
        Checksum chunked = Checksum.ofRaw(HashType.SHA2_256_CHUNKED, Sha256.newDigest().digest(sha));
        Checksum hex = Checksum.ofRaw(HashType.SHA256, sha);
        HeadObjectResponse single = HeadObjectResponse.builder().contentLength(5L).checksumSHA256(full)
                .checksumType(ChecksumType.FULL_OBJECT).build();
        assertEquals(Boolean.TRUE, S3Registry.provedByChecksum(single, chunked, 5));
        assertEquals(Boolean.TRUE, S3Registry.provedByChecksum(single, hex, 5));
        Checksum otherHex = Checksum.ofRaw(HashType.SHA256, Sha256.newDigest().digest(new byte[5]));
        assertEquals(Boolean.FALSE, S3Registry.provedByChecksum(single, otherHex, 5));
        // A one-part multipart upload: the composite of one chunk is the row's value.
        HeadObjectResponse onePart = HeadObjectResponse.builder().contentLength(5L)
                .checksumSHA256(chunked.value() + "-1").checksumType(ChecksumType.COMPOSITE).build();
        assertEquals(Boolean.TRUE, S3Registry.provedByChecksum(onePart, chunked, 5));
        assertNull(S3Registry.provedByChecksum(onePart, hex, 5), "a composite needs the file's chunks");
        // A composite of another part count than the row's chunk count cannot tell.
        HeadObjectResponse twoParts = HeadObjectResponse.builder().contentLength(5L)
                .checksumSHA256(chunked.value() + "-2").checksumType(ChecksumType.COMPOSITE).build();
        assertNull(S3Registry.provedByChecksum(twoParts, chunked, 5));
        // A full-object SHA-256 of a file of several chunks needs the file.
        assertNull(S3Registry.provedByChecksum(HeadObjectResponse.builder().contentLength(BIG + 0L).checksumSHA256(full)
                .build(), chunked, BIG));
        // CRC64NVME: S3's full-object CRC is the row's value (S3Proxy does not keep it).
        Checksum crc = Checksum.of(HashType.CRC64NVME, "rosUhgp5mIg=");
        assertEquals(Boolean.TRUE, S3Registry.provedByChecksum(HeadObjectResponse.builder().contentLength(9L)
                .checksumCRC64NVME("rosUhgp5mIg=").build(), crc, 9));
        assertEquals(Boolean.FALSE, S3Registry.provedByChecksum(HeadObjectResponse.builder().contentLength(9L)
                .checksumCRC64NVME("AAAAAAAAAAA=").build(), crc, 9));
        // No checksum, or a malformed one: nothing is proved.
        assertNull(S3Registry.provedByChecksum(HeadObjectResponse.builder().contentLength(5L).build(), chunked, 5));
        assertNull(S3Registry.provedByChecksum(HeadObjectResponse.builder().contentLength(5L).checksumSHA256("xyz")
                .build(), chunked, 5));
    }
}
