package io.quiltfs.nativetests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.fs.fuse.FuseMount;
import io.quiltfs.store.state.MountTable;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.manifest.ManifestReader;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.TestRegistries;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What the comparisons of an editable mount with a plain folder share: the fixture and the
 * mount (made by the CLI, as people do), unmounted after each test; the CLI; the check that a
 * committed revision holds a folder's files; the Python driver that compares trees.
 */
abstract class MountComparison {
    Fixture f;
    Path mnt;

    @AfterEach
    void tearDown() throws Exception {
        if (f == null) {
            return;
        }
        try {
            if (mnt != null && MountTable.at(mnt) != null) {
                cli("unmount", mnt.toString());
            }
            if (mnt != null && MountTable.at(mnt) != null) {
                FuseMount.unmount(mnt, true);
            }
        } finally {
            f.close();
        }
    }

    /**
     * Builds the package both sides start from (odd names: spaces, non-ASCII, nested folders,
     * and a random binary of {@code blobBytes} from {@code seed}) into {@link #f}.
     */
    void buildPackage(int blobBytes, long seed) throws Exception {
        f = new Fixture(TestRegistries.LOCAL);
        f.write("README.md", "# a package\n");
        f.write("f0", "alpha\nbeta\n");
        f.write("d0/f1", "one\n");
        f.write("d0/sub/data.csv", "a,b\n1,2\n");
        f.write("d1/x y/f2.txt", "deep\n");
        f.write("x y/\u00fcn\u00ef.txt", "unicode\n");
        byte[] blob = new byte[blobBytes];
        new Random(seed).nextBytes(blob);
        Files.write(f.src.resolve("d1/blob.bin"), blob);
        f.build();
    }

    /** Mounts {@link #f}'s revision, editable, with the CLI, at {@link #mnt}. */
    void mount() throws Exception {
        mnt = Files.createDirectories(f.scratch.resolve("mnt"));
        cli("mount", "test/mounted@" + f.topHash, mnt.toString(), "-r", f.uri).ok();
    }

    /** The committed revision holds the folder's files: the same keys, sizes and content hashes. */
    void assertRevisionHolds(String top, Path ref, String when) throws Exception {
        assertEquals(64, top.length(), when + ": " + top);
        Manifest m = ManifestReader.read(new Home(f.home).installedManifest(Fixture.PKG, top));
        Map<String, Entry> rows = new TreeMap<>();
        m.entries().forEach(e -> rows.put(e.logicalKey(), e));
        Map<String, Path> files = new TreeMap<>();
        try (Stream<Path> s = Files.walk(ref)) {
            s.filter(Files::isRegularFile).forEach(p -> files.put(ref.relativize(p).toString(), p));
        }
        assertEquals(files.keySet(), rows.keySet(), when + ": the revision's keys");
        for (Map.Entry<String, Path> e : files.entrySet()) {
            Entry row = rows.get(e.getKey());
            assertEquals(Files.size(e.getValue()), row.size(), when + ": size of " + e.getKey());
            assertEquals(FileHasher.hash(e.getValue(), row.hash().type()), row.hash(), when + ": content of " + e.getKey());
        }
    }

    static Path driver() {
        return Path.of(System.getProperty("quiltfs.root", "..")).toAbsolutePath().normalize()
                .resolve("native-tests/src/test/python/mount_diff.py");
    }

    Tool.Result cli(String... args) throws Exception {
        Path out = Files.createTempFile(f.scratch, "cli", ".out");
        Path err = Files.createTempFile(f.scratch, "cli", ".err");
        ProcessBuilder pb = new ProcessBuilder(Tool.quiltfs(f.home, args)).redirectOutput(out.toFile())
                .redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: quiltfs " + Arrays.toString(args));
        }
        return new Tool.Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }
}
