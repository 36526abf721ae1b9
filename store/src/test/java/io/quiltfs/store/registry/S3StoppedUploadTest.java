package io.quiltfs.store.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.testing.ChildJvm;
import io.quiltfs.store.testing.FaultProxy;
import io.quiltfs.store.testing.S3ProxyServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A process stopped (SIGTERM, as Ctrl-C) in the middle of a multipart upload aborts it on the
 * way out: no parts stay behind in the bucket, unlisted and billed.
 */
class S3StoppedUploadTest {
    static final int BIG = 20 << 20;

    @TempDir
    Path tmp;

    /** The child: uploads {@code args[2]} to bucket {@code args[0]} through endpoint {@code args[1]}. */
    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[2]);
        Checksum sum = FileHasher.hash(file, HashType.SHA2_256_CHUNKED);
        var patient = new S3Registry.Tuning(Duration.ofSeconds(20), Duration.ofSeconds(5), Duration.ofSeconds(1),
                20, 4, 4, 16L << 20, 8L << 20);
        try (S3Registry reg = new S3Registry(args[0], new S3Settings(args[1], "us-east-1"), patient, null)) {
            reg.putObject(PackageName.parse("team/data"), "big.bin", sum, Files.size(file), file);
        }
    }

    @Test
    void aStoppedProcessAbortsItsMultipartUpload() throws Exception {
        S3ProxyServer server = S3ProxyServer.shared();
        String bucket = server.newBucket();
        byte[] b = new byte[BIG];
        new Random(3).nextBytes(b);
        Path big = tmp.resolve("big");
        Files.write(big, b);
        try (FaultProxy proxy = new FaultProxy(server.port());
             S3Client direct = S3ForeignObjectsTest.client(server.endpoint(), RequestChecksumCalculation.WHEN_REQUIRED)) {
            // Every part is throttled: the upload is open, its parts retried, when the stop comes.
            FaultProxy.Rule throttled = proxy.status(503, "PUT", "partNumber", -1);
            ProcessBuilder pb = ChildJvm.builder(S3StoppedUploadTest.class, bucket, proxy.endpoint(), big.toString())
                    .redirectOutput(tmp.resolve("child.log").toFile());
            pb.environment().putAll(server.environment());
            Process p = pb.start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (throttled.fired() == 0) {
                    assertTrue(p.isAlive(), () -> "the child ended first: " + log());
                    assertTrue(System.nanoTime() < deadline, "the upload never started");
                    Thread.sleep(20);
                }
                assertEquals(1, direct.listMultipartUploads(r -> r.bucket(bucket)).uploads().size(),
                        "the upload is open");
                p.destroy(); // SIGTERM: shutdown hooks run
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            } finally {
                p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
            assertEquals(0, direct.listMultipartUploads(r -> r.bucket(bucket)).uploads().size(), log());
        }
    }

    private String log() {
        try {
            return Files.readString(tmp.resolve("child.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }
}
