package io.quiltfs.bench;

import io.quiltfs.store.hash.Checksum;
import io.quiltfs.store.hash.HashType;
import io.quiltfs.store.hash.Hashers;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.registry.LocalRegistry;
import io.quiltfs.store.registry.PackageName;
import io.quiltfs.store.registry.PhysicalKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Writes a package of N rows (in folders of {@code perFolder}) into a local registry without
 * N files on disk: every row points at one small object. For the mount's metadata benchmarks
 * ({@code find}, {@code ls -lR}, mount time and heap of a 1,000,000-entry package).
 *
 * <p>Usage: {@code WidePackage REGISTRY_DIR NS/NAME N PER_FOLDER [TREE_DIR]}; with TREE_DIR it
 * also creates the same tree of empty files on the local disk, as the baseline.
 */
public final class WidePackage {
    private WidePackage() {
    }

    public static void main(String[] args) throws Exception {
        Path reg = Paths.get(args[0]);
        PackageName pkg = PackageName.parse(args[1]);
        int n = Integer.parseInt(args[2]);
        int per = Integer.parseInt(args[3]);
        Path tree = args.length > 4 ? Paths.get(args[4]) : null;
        byte[] seed = "the same small object\n".getBytes(StandardCharsets.UTF_8);
        Path obj = reg.resolve(pkg.namespace()).resolve(pkg.name()).resolve("seed.txt");
        Files.createDirectories(obj.getParent());
        Files.write(obj, seed);
        Checksum sum = Hashers.of(HashType.SHA2_256_CHUNKED, seed);
        String pk = PhysicalKey.ofFile(obj).toString();
        Manifest.Builder b = Manifest.builder().message(n + " entries");
        for (int i = 0; i < n; i++) {
            String key = "d" + (i / per) + "/f" + (i % per) + ".txt";
            b.add(new Entry(key, pk, seed.length, sum));
            if (tree != null) {
                Path p = tree.resolve(key);
                if (i % per == 0) {
                    Files.createDirectories(p.getParent());
                }
                Files.write(p, seed);
            }
        }
        try (LocalRegistry r = new LocalRegistry(reg)) {
            Manifest m = b.build();
            String top = r.writeManifest(m);
            r.writePointer(pkg, String.valueOf(System.currentTimeMillis() / 1000), top);
            r.writePointer(pkg, "latest", top);
            System.out.println(top);
        }
    }
}
