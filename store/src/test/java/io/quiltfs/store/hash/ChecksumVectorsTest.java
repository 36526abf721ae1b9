package io.quiltfs.store.hash;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quiltfs.store.testing.Vectors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ChecksumVectorsTest {
    private static final Pattern REPEAT = Pattern.compile("\"(.*)\" repeated (\\d+) times.*");

    static byte[] input(String description) {
        if (description.equals("empty")) {
            return new byte[0];
        }
        Matcher m = REPEAT.matcher(description);
        if (m.matches()) {
            return m.group(1).repeat(Integer.parseInt(m.group(2))).getBytes(StandardCharsets.UTF_8);
        }
        String quoted = description.substring(1, description.length() - 1);
        return quoted.replace("\\n", "\n").getBytes(StandardCharsets.UTF_8);
    }

    static Stream<Arguments> vectors() throws IOException {
        List<Arguments> out = new ArrayList<>();
        for (String line : Files.readAllLines(Vectors.quilt().resolve("checksums.tsv"))) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t");
            out.add(Arguments.of(f[0], Long.parseLong(f[1]), f[2], f[3]));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{2} of {0}")
    @MethodSource("vectors")
    void matchesVector(String input, long size, String type, String expected, @TempDir Path tmp) throws IOException {
        byte[] data = input(input);
        assertEquals(size, data.length);
        if (type.startsWith("CRC64NVME (as an unsigned")) {
            Checksum c = Hashers.of(HashType.CRC64NVME, data);
            assertEquals(Long.parseUnsignedLong(expected.substring(2), 16),
                    java.nio.ByteBuffer.wrap(c.raw()).getLong());
            Checksum j = javaCrc(data);
            assertEquals(c, j);
            return;
        }
        HashType t = HashType.fromWire(type);
        assertEquals(expected, Hashers.of(t, data).value(), "streaming");
        Path f = tmp.resolve("f");
        Files.write(f, data);
        assertEquals(expected, FileHasher.hash(f, t).value(), "file");
        if (t == HashType.CRC64NVME) {
            assertEquals(expected, javaCrc(data).value(), "java CRC");
        }
        // Streaming in odd-sized pieces gives the same answer.
        Hasher h = Hashers.create(t, data.length);
        for (int off = 0; off < data.length; off += 7919) {
            h.update(data, off, Math.min(7919, data.length - off));
        }
        assertEquals(expected, h.finish().value(), "pieces");
    }

    private static Checksum javaCrc(byte[] data) {
        Hasher h = Crc64Nvme.newJavaHasher();
        h.update(data, 0, data.length);
        return h.finish();
    }

    @Test
    void chunkSizes() throws IOException {
        for (String line : Files.readAllLines(Vectors.quilt().resolve("chunksize.tsv"))) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t");
            assertEquals(Long.parseLong(f[1]), ChunkSize.forSize(Long.parseLong(f[0])), line);
        }
    }

    @Test
    void manyFilesInParallelKeepOrder(@TempDir Path tmp) throws IOException {
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            Path f = tmp.resolve("f" + i);
            Files.writeString(f, "content " + i);
            files.add(f);
        }
        List<Checksum> sums = FileHasher.hashAll(files, HashType.SHA2_256_CHUNKED);
        for (int i = 0; i < files.size(); i++) {
            assertEquals(Hashers.of(HashType.SHA2_256_CHUNKED, ("content " + i).getBytes()), sums.get(i));
        }
    }
}
