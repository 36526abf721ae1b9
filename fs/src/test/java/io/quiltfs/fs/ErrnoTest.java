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
    }
}
