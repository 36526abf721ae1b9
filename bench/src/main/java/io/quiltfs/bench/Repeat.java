package io.quiltfs.bench;

import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.manifest.ManifestReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

/**
 * Runs one foundation operation N times in one JVM and prints each time and the median: a plain
 * loop to attach a profiler to (JFR), beside the JMH figures.
 * {@code Repeat hash FILE N | hashdir DIR N | tophash MANIFEST N | read MANIFEST N}; the
 * last line, {@code inner-seconds S}, is the median of the runs after the first.
 */
public final class Repeat {
    private Repeat() {
    }

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        Path path = Path.of(args[1]);
        int n = Integer.parseInt(args[2]);
        List<Path> files = new ArrayList<>();
        if (kind.equals("hashdir")) {
            try (Stream<Path> s = Files.walk(path)) {
                s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("."))
                        .sorted().forEach(files::add);
            }
        }
        List<Double> times = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long c0 = cpuNanos();
            long t0 = System.nanoTime();
            Object result = switch (kind) {
                case "hash" -> FileHasher.hash(path, HashType.SHA2_256_CHUNKED).value();
                case "hashdir" -> FileHasher.hashAll(files, HashType.SHA2_256_CHUNKED).size();
                case "tophash" -> ManifestReader.read(path).topHash();
                case "read" -> ManifestReader.read(path).size();
                default -> throw new IllegalArgumentException("unknown kind " + kind);
            };
            double s = (System.nanoTime() - t0) / 1e9;
            double cpu = (cpuNanos() - c0) / 1e9;
            times.add(s);
            System.out.printf("%s %.3f s (process CPU %.3f s)  %s%n", kind, s, cpu, result);
        }
        List<Double> warm = new ArrayList<>(times.subList(Math.min(1, n - 1), n));
        Collections.sort(times);
        Collections.sort(warm);
        System.out.printf("median %.3f s%n", times.get(times.size() / 2));
        // For bench/foundation.py: the median once warm (the first run warms the JIT up).
        System.out.printf("inner-seconds %.6f%n", warm.get(warm.size() / 2));
    }

    /** CPU time of the whole process (every thread, JIT and GC included). */
    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
