package io.quiltfs.store.hash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ChunkedDigest fed out of order gives the same checksum as hashing the file. */
class ChunkedDigestTest {
    @TempDir
    Path tmp;

    @Test
    void outOfOrderChunksMatchTheFileHash() throws IOException {
        int size = (int) (ChunkSize.MIN * 2 + 12345);
        byte[] data = new byte[size];
        new Random(1).nextBytes(data);
        Path f = tmp.resolve("f");
        Files.write(f, data);
        ChunkedDigest d = new ChunkedDigest(size);
        int chunk = (int) d.chunkSize();
        for (int i : new int[] {2, 0, 1}) {
            int off = i * chunk;
            int len = Math.min(chunk, size - off);
            d.update(i, data, off, len / 2);
            d.update(i, data, off + len / 2, len - len / 2);
        }
        assertEquals(FileHasher.hash(f, HashType.SHA2_256_CHUNKED), d.finish());
    }

    @Test
    void emptyAndShortInput() {
        assertEquals("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", new ChunkedDigest(0).finish().value());
        ChunkedDigest d = new ChunkedDigest(10);
        d.update(0, new byte[9], 0, 9);
        assertNull(d.finish(), "a chunk short of its bytes is no checksum");
    }
}
