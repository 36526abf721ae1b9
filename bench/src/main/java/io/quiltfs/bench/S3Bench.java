package io.quiltfs.bench;

import io.quiltfs.store.cache.Fetcher;
import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Side-by-side download timings for bench/s3.sh, in one JVM run each:
 * {@code sdk-get ENDPOINT BUCKET KEY FILE} is the baseline (one plain SDK GET into a file; the
 * one place outside S3Registry that uses the SDK, as the thing being compared against);
 * {@code fetch ENDPOINT BUCKET NS/NAME HOME} brings every row of the package's latest revision
 * into a fresh object cache, verified. Each prints "seconds bytes".
 */
public final class S3Bench {
    private S3Bench() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        String endpoint = args[1];
        String bucket = args[2];
        long t0 = System.nanoTime();
        long bytes = 0;
        if (mode.equals("sdk-get")) {
            Path out = Paths.get(args[4]);
            Files.deleteIfExists(out);
            try (S3Client s3 = S3Client.builder().endpointOverride(URI.create(endpoint)).forcePathStyle(true)
                    .region(Region.US_EAST_1).build()) {
                t0 = System.nanoTime();
                s3.getObject(r -> r.bucket(bucket).key(args[3]), out);
            }
            bytes = Files.size(out);
        } else if (mode.equals("fetch")) {
            S3Settings st = new S3Settings(endpoint, "us-east-1");
            try (Registry r = Registries.open("s3://" + bucket, st)) {
                Manifest m = r.readManifest(r.latest(PackageName.parse(args[3])));
                Fetcher f = new Fetcher(new ObjectCache(new Home(Paths.get(args[4]))), pk -> r);
                t0 = System.nanoTime();
                for (Entry e : m.entries()) {
                    f.fetch(e);
                    bytes += e.size();
                }
            }
        } else if (mode.equals("ranges")) {
            // The download alone (no verification, no fsync): where fetch's time goes.
            try (Registry r = Registries.open("s3://" + bucket, new S3Settings(endpoint, "us-east-1"));
                 java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(Paths.get(args[5]),
                         java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
                         java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
                io.quiltfs.store.registry.PhysicalKey k = io.quiltfs.store.registry.PhysicalKey.ofS3(bucket, args[3], null);
                long size = Long.parseLong(args[4]);
                t0 = System.nanoTime();
                bytes = r.download(k, size, Long.parseLong(args[6]), ch, null);
            }
        } else {
            throw new IllegalArgumentException("unknown mode " + mode);
        }
        System.out.printf("%.3f %d%n", (System.nanoTime() - t0) / 1e9, bytes);
    }
}
