package io.quiltfs.bench;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.manifest.ManifestReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The library side of the foundation benchmarks: each operation once per iteration, timed whole
 * (single shot: these take from tenths of a second to seconds, so per-call overhead is nothing).
 * The data comes from {@code bench/foundation.sh} ({@code -p work=DIR}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-XX:+UseParallelGC", "-Xmx2g"})
@Warmup(iterations = 3)
@Measurement(iterations = 7)
public class FoundationBenchmarks {
    /** The folder {@code bench/foundation.sh} generates: 1g.bin, small/, m1m.jsonl. */
    @Param("bench/work")
    public String work;

    private Path bigFile;
    private List<Path> smallFiles;
    private Path manifest;

    @Setup
    public void setup() throws IOException {
        Path dir = Path.of(work);
        bigFile = dir.resolve("1g.bin");
        manifest = dir.resolve("m1m.jsonl");
        try (Stream<Path> s = Files.walk(dir.resolve("small"))) {
            smallFiles = s.filter(Files::isRegularFile)
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted()
                    .collect(Collectors.toList());
        }
    }

    /** {@code sha2-256-chunked} of a 1 GiB file (page cache warm). */
    @Benchmark
    public Checksum hashBigFile() throws IOException {
        return FileHasher.hash(bigFile, HashType.SHA2_256_CHUNKED);
    }

    /** {@code sha2-256-chunked} of 10,000 files of 10 KiB. */
    @Benchmark
    public List<Checksum> hashSmallFiles() throws IOException {
        return FileHasher.hashAll(smallFiles, HashType.SHA2_256_CHUNKED);
    }

    /** Read a 1,000,000-row manifest and compute its top hash. */
    @Benchmark
    public String manifestReadTopHash() throws IOException {
        return ManifestReader.read(manifest).topHash();
    }
}
