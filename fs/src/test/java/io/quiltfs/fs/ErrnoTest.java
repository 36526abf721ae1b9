package io.quiltfs.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;

/** The one mapping from a failure to an errno. */
class ErrnoTest {
    @Test
    void aFullDiskIsSaidAsSuch() {
        // What FileChannel.write throws when write(2) fails with ENOSPC or EDQUOT.
        assertEquals(Errno.ENOSPC, Errno.of(new IOException("No space left on device")));
        assertEquals(Errno.EDQUOT, Errno.of(new IOException("Disk quota exceeded")));
        assertEquals(Errno.EIO, Errno.of(new IOException("Connection reset")));
        assertEquals(Errno.ENOENT, Errno.of(new NoSuchFileException("x")));
        assertEquals(Errno.EPERM, Errno.of(new FsException(Errno.EPERM, "no")));
        // A failed open, create or copy: the JDK's FileSystemException with strerror's text as reason.
        assertEquals(Errno.ENOSPC, Errno.of(new java.nio.file.FileSystemException("/h/files/1", null, "No space left on device")));
        assertEquals(Errno.EIO, Errno.of(new java.nio.file.FileSystemException("/h/files/1", null, "Input/output error")));
    }

    @Test
    void aRealWriteToAFullDeviceIsEnospc() throws IOException {
        java.nio.file.Path full = java.nio.file.Path.of("/dev/full");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isWritable(full), "/dev/full");
        try (var ch = java.nio.channels.FileChannel.open(full, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[4096]), 0);
            org.junit.jupiter.api.Assertions.fail("a write to /dev/full succeeded");
        } catch (IOException e) {
            assertEquals(Errno.ENOSPC, Errno.of(e), e.toString());
        }
    }
}
