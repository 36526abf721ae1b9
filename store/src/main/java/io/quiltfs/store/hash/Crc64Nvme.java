package io.quiltfs.store.hash;

import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CRC-64/NVME: reflected polynomial 0x9A6C9329AC4BC9B5, init and xorout all ones.
 * Uses the AWS CRT's hardware-accelerated implementation when its native library loads and a
 * table-driven (slicing-by-8) Java implementation otherwise; both are checked against each other
 * in the tests.
 */
public final class Crc64Nvme {
    private static final Logger log = LoggerFactory.getLogger(Crc64Nvme.class);
    static final long POLY = 0x9A6C9329AC4BC9B5L;
    private static final long[][] TABLES = buildTables();
    private static final boolean CRT = crtAvailable();

    private Crc64Nvme() {
    }

    private static long[][] buildTables() {
        long[][] t = new long[8][256];
        for (int i = 0; i < 256; i++) {
            long crc = i;
            for (int k = 0; k < 8; k++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ POLY : crc >>> 1;
            }
            t[0][i] = crc;
        }
        for (int i = 0; i < 256; i++) {
            for (int s = 1; s < 8; s++) {
                t[s][i] = (t[s - 1][i] >>> 8) ^ t[0][(int) (t[s - 1][i] & 0xff)];
            }
        }
        return t;
    }

    private static boolean crtAvailable() {
        try {
            var c = new software.amazon.awssdk.crt.checksums.CRC64NVME();
            c.update(new byte[] {'1', '2', '3', '4', '5', '6', '7', '8', '9'}, 0, 9);
            return c.getValue() == 0xAE8B14860A799888L;
        } catch (Throwable t) {
            log.debug("AWS CRT CRC64NVME unavailable, using the Java implementation: {}", t.toString());
            return false;
        }
    }

    /** A streaming hasher: the CRT's when available. */
    static Hasher newHasher() {
        return CRT ? new CrtHasher() : new JavaHasher();
    }

    /** The pure-Java implementation (for tests and platforms without the CRT). */
    static Hasher newJavaHasher() {
        return new JavaHasher();
    }

    /** Updates a raw (non-inverted) CRC register; callers invert before and after. */
    static long update(long crc, byte[] b, int off, int len) {
        long[][] t = TABLES;
        while (len >= 8) {
            long v = crc ^ ((b[off] & 0xffL) | (b[off + 1] & 0xffL) << 8 | (b[off + 2] & 0xffL) << 16
                    | (b[off + 3] & 0xffL) << 24 | (b[off + 4] & 0xffL) << 32 | (b[off + 5] & 0xffL) << 40
                    | (b[off + 6] & 0xffL) << 48 | (b[off + 7] & 0xffL) << 56);
            crc = t[7][(int) (v & 0xff)] ^ t[6][(int) ((v >>> 8) & 0xff)]
                    ^ t[5][(int) ((v >>> 16) & 0xff)] ^ t[4][(int) ((v >>> 24) & 0xff)]
                    ^ t[3][(int) ((v >>> 32) & 0xff)] ^ t[2][(int) ((v >>> 40) & 0xff)]
                    ^ t[1][(int) ((v >>> 48) & 0xff)] ^ t[0][(int) (v >>> 56)];
            off += 8;
            len -= 8;
        }
        while (len-- > 0) {
            crc = (crc >>> 8) ^ t[0][(int) ((crc ^ b[off++]) & 0xff)];
        }
        return crc;
    }

    static Checksum toChecksum(long value) {
        return Checksum.ofRaw(HashType.CRC64NVME, ByteBuffer.allocate(8).putLong(value).array());
    }

    private static final class JavaHasher implements Hasher {
        private long crc = ~0L;
        private long count;

        @Override
        public void update(byte[] b, int off, int len) {
            crc = Crc64Nvme.update(crc, b, off, len);
            count += len;
        }

        @Override
        public long count() {
            return count;
        }

        @Override
        public Checksum finish() {
            return toChecksum(~crc);
        }
    }

    private static final class CrtHasher implements Hasher {
        private final software.amazon.awssdk.crt.checksums.CRC64NVME crc =
                new software.amazon.awssdk.crt.checksums.CRC64NVME();
        private long count;

        @Override
        public void update(byte[] b, int off, int len) {
            crc.update(b, off, len);
            count += len;
        }

        @Override
        public long count() {
            return count;
        }

        @Override
        public Checksum finish() {
            return toChecksum(crc.getValue());
        }
    }
}
