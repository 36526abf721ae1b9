package io.quiltfs.store.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.ChildJvm;
import io.quiltfs.store.testing.FaultProxy;
import io.quiltfs.store.testing.S3ProxyServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
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

    static final S3Registry.Tuning PATIENT = new S3Registry.Tuning(Duration.ofSeconds(20), Duration.ofSeconds(5),
            Duration.ofSeconds(1), 20, 4, 4, 16L << 20, 8L << 20);

    /**
     * The child: uploads {@code args[2]} to bucket {@code args[0]} through endpoint {@code args[1]},
     * with the home {@code args[3]} if given.
     */
    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[2]);
        Checksum sum = FileHasher.hash(file, HashType.SHA2_256_CHUNKED);
        S3Settings settings = new S3Settings(args[1], "us-east-1");
        if (args.length > 3) {
            settings = settings.withHome(new Home(Path.of(args[3])));
        }
        try (S3Registry reg = new S3Registry(args[0], settings, PATIENT, null)) {
            reg.putObject(PackageName.parse("team/data"), "big.bin", sum, Files.size(file), file);
        }
    }

    @Test
    void aStoppedProcessAbortsItsMultipartUpload() throws Exception {
        S3ProxyServer server = S3ProxyServer.shared();
        String bucket = server.newBucket();
        Path big = randomFile("big", 3);
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

    /**
     * SIGKILL runs no hook: the upload stays open, recorded in the home, and the next push from
     * the home aborts it; the upload of a process still running is left alone, and the record of
     * one its hook aborted is ended by the push after.
     */
    @Test
    void aKilledProcessesUploadIsAbortedByTheNextPushFromTheHome() throws Exception {
        S3ProxyServer server = S3ProxyServer.shared();
        String bucket = server.newBucket();
        Path big = randomFile("big", 4);
        Path home = tmp.resolve("home");
        try (FaultProxy proxy = new FaultProxy(server.port());
             S3Client direct = S3ForeignObjectsTest.client(server.endpoint(), RequestChecksumCalculation.WHEN_REQUIRED)) {
            FaultProxy.Rule throttled = proxy.status(503, "PUT", "partNumber", -1);
            Process killed = startUpload(server, bucket, proxy, big, home, "killed.log");
            Process running = null;
            try {
                // Its parts are being sent (and throttled): the upload is created and recorded.
                awaitUploads(direct, bucket, killed, throttled, 0, null);
                String killedUpload = uploadIds(direct, bucket).get(0);
                killed.destroyForcibly(); // SIGKILL: no hook runs
                assertTrue(killed.waitFor(30, TimeUnit.SECONDS));
                // The next push from the home (this child) first aborts what the killed one left.
                running = startUpload(server, bucket, proxy, big, home, "running.log");
                awaitUploads(direct, bucket, running, throttled, throttled.fired(), killedUpload);
                assertEquals(1, uploadIds(direct, bucket).size());

                Path other = randomFile("other", 5);
                Checksum sum = FileHasher.hash(other, HashType.SHA2_256_CHUNKED);
                try (S3Registry reg = new S3Registry(bucket, server.settings().withHome(new Home(home)), PATIENT, null)) {
                    reg.putObject(PackageName.parse("team/other"), "other.bin", sum, BIG, other);
                }
                assertEquals(1, uploadIds(direct, bucket).size(), "the running process's upload is left alone");
                assertTrue(running.isAlive());
                running.destroy(); // SIGTERM: its own hook aborts it
                assertTrue(running.waitFor(30, TimeUnit.SECONDS));
            } finally {
                killed.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                if (running != null) {
                    running.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
                }
            }
            assertEquals(0, direct.listMultipartUploads(r -> r.bucket(bucket)).uploads().size());
            // The next push finds the running process's record of an upload its hook aborted: gone.
            try (S3Registry reg = new S3Registry(bucket, server.settings().withHome(new Home(home)), PATIENT, null)) {
                Checksum sum = FileHasher.hash(big, HashType.SHA2_256_CHUNKED);
                reg.putObject(PackageName.parse("team/data"), "big.bin", sum, BIG, big);
            }
            try (var records = Files.list(new Home(home).registryUploads("s3://" + bucket))) {
                assertEquals(0, records.count(), "every record is ended");
            }
        }
    }

    private Path randomFile(String name, int seed) throws IOException {
        byte[] b = new byte[BIG];
        new Random(seed).nextBytes(b);
        return Files.write(tmp.resolve(name), b);
    }

    private Process startUpload(S3ProxyServer server, String bucket, FaultProxy proxy, Path file, Path home,
            String logName) throws IOException {
        ProcessBuilder pb = ChildJvm.builder(S3StoppedUploadTest.class, bucket, proxy.endpoint(), file.toString(),
                home.toString()).redirectErrorStream(true).redirectOutput(tmp.resolve(logName).toFile());
        pb.environment().putAll(server.environment());
        return pb.start();
    }

    /**
     * Waits until one upload is open, not {@code gone} (which must have been aborted by then), and
     * a part was refused after {@code refused} were.
     */
    private static void awaitUploads(S3Client direct, String bucket, Process child, FaultProxy.Rule throttled,
            long refused, String gone) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            List<String> ids = uploadIds(direct, bucket);
            if (ids.size() == 1 && !ids.contains(gone) && throttled.fired() > refused) {
                return;
            }
            assertTrue(child.isAlive(), "the child ended first");
            assertTrue(System.nanoTime() < deadline, "uploads open: " + ids + ", parts refused: " + throttled.fired());
            Thread.sleep(20);
        }
    }

    private static List<String> uploadIds(S3Client direct, String bucket) {
        return direct.listMultipartUploads(r -> r.bucket(bucket)).uploads().stream()
                .map(software.amazon.awssdk.services.s3.model.MultipartUpload::uploadId).toList();
    }

    private String log() {
        try {
            return Files.readString(tmp.resolve("child.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }
}
