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

    /**
     * After one item fails, forEach returns only once the items already running are done: a
     * placement still running would otherwise write into the working folder after the caller
     * reported the stop. The slow sibling waits for the call to return (bounded, so that the
     * fixed forEach, which waits for it, goes on) and says whether it found it returned.
     */
    @Test
    void forEachWaitsForTheRunningItemsBeforeThrowing() throws Exception {
        var siblingStarted = new java.util.concurrent.CountDownLatch(1);
        var returned = new java.util.concurrent.CountDownLatch(1);
        var siblingDone = new java.util.concurrent.CountDownLatch(1);
        var wroteAfterReturn = new java.util.concurrent.atomic.AtomicBoolean();
        IOException e = assertThrows(IOException.class, () -> FileHasher.forEach(java.util.List.of("fails", "slow"),
                item -> {
                    try {
                        if (item.equals("fails")) {
                            siblingStarted.await(10, java.util.concurrent.TimeUnit.SECONDS);
                            throw new IOException("disk full");
                        }
                        siblingStarted.countDown();
                        returned.await(2, java.util.concurrent.TimeUnit.SECONDS);
                        wroteAfterReturn.set(returned.getCount() == 0); // its "write"
                        siblingDone.countDown();
                    } catch (InterruptedException ie) {
                        throw new IOException(ie);
                    }
                }));
        returned.countDown();
        assertEquals("disk full", e.getMessage());
        assertTrue(siblingDone.await(10, java.util.concurrent.TimeUnit.SECONDS));
        assertTrue(!wroteAfterReturn.get(), "the sibling wrote after forEach returned");
    }
}
