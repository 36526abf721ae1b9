package io.quiltfs.store.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quiltfs.store.testing.Vectors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TopHashVectorsTest {
    static Stream<Arguments> vectors() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (String line : Files.readAllLines(Vectors.quilt().resolve("expected-tophash.tsv"))) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t");
            out.add(Arguments.of(f[0], f[1]));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void topHashMatches(String file, String expected) throws IOException {
        Manifest m = ManifestReader.read(Vectors.quilt().resolve(file));
        assertEquals(expected, m.topHash());
        // Written back and read again: same top hash.
        Manifest again = ManifestReader.read(ManifestWriter.toBytes(m), "rewritten " + file);
        assertEquals(expected, again.topHash());
    }

    @Test
    void everyNamedManifestHashesToItsName() throws IOException {
        try (var files = Files.list(Vectors.quilt().resolve("manifests"))) {
            for (Path p : files.toList()) {
                String name = p.getFileName().toString();
                if (name.matches("[0-9a-f]{64}.*\\.jsonl")) {
                    assertEquals(name.substring(0, 64), ManifestReader.read(p).topHash(), name);
                }
            }
        }
    }
}
