package io.quiltfs.store.hash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * FileHasher against checksums computed in memory, on each side of the chunk and part
 * boundaries, and a file shorter than the size it is hashed for.
 */
class FileHasherTest {
    @TempDir
    Path tmp;

    @Test
    void fileChecksumsMatchTheBytes() throws IOException {
        long mib = 1L << 20;
        for (long size : new long[] {mib - 1, mib, mib + 1, 8 * mib, 8 * mib + 5, 17 * mib + 3}) {
            byte[] data = new byte[(int) size];
            new Random(size).nextBytes(data);
            Path f = tmp.resolve("f" + size);
            Files.write(f, data);
            ChunkedDigest chunked = new ChunkedDigest(size);
            int chunk = (int) chunked.chunkSize();
            for (int i = 0, off = 0; off < size; i++, off += chunk) {
                chunked.update(i, data, off, (int) Math.min(chunk, size - off));
            }
            assertEquals(chunked.finish(), FileHasher.hash(f, HashType.SHA2_256_CHUNKED), "size " + size);
            assertEquals(Checksum.ofRaw(HashType.SHA256, Sha256.newDigest().digest(data)),
                    FileHasher.hash(f, HashType.SHA256), "size " + size);
            byte[][] parts = FileHasher.partDigests(f, size, mib, Checksum.ofRaw(HashType.CRC64NVME, new byte[8]));
            MessageDigest last = Sha256.newDigest();
            int lastStart = (int) ((parts.length - 1) * mib);
            last.update(data, lastStart, (int) (size - lastStart));
            assertEquals(java.util.HexFormat.of().formatHex(last.digest()),
                    java.util.HexFormat.of().formatHex(parts[parts.length - 1]), "last part, size " + size);
        }
    }

    @Test
    void aFileShorterThanItsSizeFailsAsShrunk() throws IOException {
        Path f = tmp.resolve("short");
        Files.write(f, new byte[3 << 20]);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            IOException e = assertThrows(IOException.class,
                    () -> FileHasher.hash(ch, 20L << 20, HashType.SHA2_256_CHUNKED));
            assertTrue(e.getMessage().contains("shrank"), e.getMessage());
        }
    }
}
