package io.quiltfs.fs.fuse;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** A live mount point that is no FUSE mount is not stale. */
class FuseMountStaleTest {
    @Test
    void theRootIsNotStale() throws Exception {
        assertFalse(FuseMount.isStale(Path.of("/")));
    }
}
