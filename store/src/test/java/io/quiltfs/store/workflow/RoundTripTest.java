package io.quiltfs.store.workflow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.quiltfs.store.cache.Fetcher;
import io.quiltfs.store.cache.ObjectCache;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PhysicalKey;
import io.quiltfs.store.registry.Registries;
import io.quiltfs.store.registry.Registry;
import io.quiltfs.store.registry.S3Settings;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Build a package into every kind of registry, then bring every row back through the cache. */
class RoundTripTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void buildThenFetchEveryRow(TestRegistries.Kind kind) throws IOException {
        Path src = Files.createDirectories(tmp.resolve("src/deep/er"));
        Files.writeString(tmp.resolve("src/a.txt"), "alpha\n");
        Files.write(src.resolve("empty"), new byte[0]);
        byte[] big = new byte[(9 << 20) + 5];
        new Random(3).nextBytes(big);
        Files.write(src.resolve("big.bin"), big);
        PackageName pkg = PackageName.parse("team/round");
        String uri = kind.newRegistry(tmp);
        try (Registry r = kind.open(uri)) {
            Publisher.Result first = Build.build(r, pkg, tmp.resolve("src"), "one", null,
                    HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE);
            assertEquals(first.topHash(), r.latest(pkg));

            // A second revision changes one file: the first revision's object stays readable.
            Files.writeString(tmp.resolve("src/a.txt"), "beta\n");
            Publisher.Result second = Build.build(r, pkg, tmp.resolve("src"), "two", null,
                    HashType.SHA2_256_CHUNKED, Clock.systemUTC(), Progress.NONE);
            assertNotEquals(first.topHash(), second.topHash());

            Fetcher f = new Fetcher(new ObjectCache(new Home(tmp.resolve("home"))),
                    pk -> {
                        try {
                            return Registries.sourceFor(pk, r, S3Settings.defaults());
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    });
            for (String top : new String[] {first.topHash(), second.topHash()}) {
                Manifest m = r.readManifest(top);
                assertEquals(3, m.size());
                for (Entry e : m.entries()) {
                    PhysicalKey pk = PhysicalKey.parse(e.physicalKey());
                    assertEquals(kind.name().equals("s3"), pk.isS3(), e.physicalKey());
                    Path got = f.fetch(e);
                    assertEquals(e.size(), Files.size(got));
                }
            }
            assertArrayEquals("alpha\n".getBytes(), Files.readAllBytes(f.fetch(r.readManifest(first.topHash()).get("a.txt"))));
            assertArrayEquals("beta\n".getBytes(), Files.readAllBytes(f.fetch(r.readManifest(second.topHash()).get("a.txt"))));
            assertArrayEquals(big, Files.readAllBytes(f.fetch(r.readManifest(second.topHash()).get("deep/er/big.bin"))));
        }
    }
}
