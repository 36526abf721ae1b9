package io.quiltfs.store.hash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FileHasher.partDigests: the SHA-256 of each upload part, remembered or read, never wrong. */
class PartDigestsTest {
    @TempDir
    Path tmp;

    private Path file(String name, int size, long seed) throws IOException {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return Files.write(tmp.resolve(name), b);
    }

    private static byte[] sha256(byte[] b, int from, int to) {
        return Sha256.newDigest().digest(Arrays.copyOfRange(b, from, to));
    }

    @Test
    void partsAreTheChunksOrTheWholeFile() throws IOException {
        int size = (int) ChunkSize.MIN * 2 + 5;
        Path f = file("f", size, 1);
        byte[] all = Files.readAllBytes(f);
        Checksum sum = FileHasher.hash(f, HashType.SHA2_256_CHUNKED);
        byte[][] parts = FileHasher.partDigests(f, size, ChunkSize.MIN, sum);
        assertEquals(3, parts.length);
        for (int i = 0; i < 3; i++) {
            int from = (int) (i * ChunkSize.MIN);
            assertArrayEquals(sha256(all, from, (int) Math.min(size, from + ChunkSize.MIN)), parts[i]);
        }
        // One part of a file of several chunks is read and hashed whole.
        assertArrayEquals(sha256(all, 0, size), FileHasher.partDigests(f, size, size, sum)[0]);

        Path small = file("small", 1000, 2);
        Checksum s = FileHasher.hash(small, HashType.SHA2_256_CHUNKED);
        assertArrayEquals(sha256(Files.readAllBytes(small), 0, 1000), FileHasher.partDigests(small, 1000, 1000, s)[0]);
        Checksum legacy = FileHasher.hash(small, HashType.SHA256);
        assertArrayEquals(legacy.raw(), FileHasher.partDigests(small, 1000, 1000, legacy)[0]);

        Path empty = Files.write(tmp.resolve("empty"), new byte[0]);
        Checksum e = FileHasher.hash(empty, HashType.SHA2_256_CHUNKED);
        assertArrayEquals(sha256(new byte[0], 0, 0), FileHasher.partDigests(empty, 0, 1, e)[0]);
    }

    /**
     * Digests that are not remembered are read from the file and must reproduce the checksum.
     * (Remembered ones are not checked against the file: S3 checks the body against them.)
     */
    @Test
    void contentThatDoesNotMatchItsChecksumIsRefused() throws IOException {
        Path b = file("b", 3000, 4);
        byte[] other = new byte[3000];
        new Random(5).nextBytes(other);
        // The sha2-256-chunked checksum of other content, computed here so that nothing remembers it.
        Checksum notB = Checksum.ofRaw(HashType.SHA2_256_CHUNKED, Sha256.newDigest().digest(sha256(other, 0, 3000)));
        IOException e;
        e = assertThrows(IOException.class, () -> FileHasher.partDigests(b, 3000, 3000, notB));
        assertTrue(e.getMessage().contains("changed since it was hashed"), e.getMessage());
        e = assertThrows(IOException.class, () -> FileHasher.partDigests(b, 2999, 2999, notB));
        assertTrue(e.getMessage().contains("3000 bytes, expected 2999"), e.getMessage());
    }
}
