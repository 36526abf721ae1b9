package io.quiltfs.bench;

import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.manifest.ManifestReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;
import java.nio.file.Path;

/**
 * Heap held by a parsed manifest, per row: used heap after a full GC with the manifest held,
 * minus used heap after a full GC before reading it. Run with {@code -XX:+UseSerialGC} so that
 * a full collection really compacts everything. Prints {@code rows N} and
 * {@code bytes-per-row B}.
 */
public final class ManifestHeap {
    private ManifestHeap() {
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        // Load every class the reader needs first, so that metaspace and static state are not counted.
        ManifestReader.read(file).topHash();
        long before = usedAfterGc();
        Manifest m = ManifestReader.read(file);
        long after = usedAfterGc();
        long rows = m.size();
        System.out.println("rows " + rows);
        System.out.println("heap-bytes " + (after - before));
        System.out.printf("bytes-per-row %.1f%n", (after - before) / (double) rows);
        System.out.printf("estimated-bytes-per-row %.1f%n", m.retainedRowBytes() / (double) rows);
        Reference.reachabilityFence(m);
    }

    private static long usedAfterGc() throws InterruptedException {
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, mem.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
