package io.quiltfs.fs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MountTableTest {
    @Test
    void unescapesOctal() {
        assertEquals("/tmp/a b", MountTable.unescape("/tmp/a\\040b"));
        assertEquals("/tmp/a\\b", MountTable.unescape("/tmp/a\\134b"));
        assertEquals("/plain", MountTable.unescape("/plain"));
        assertEquals("/x\\", MountTable.unescape("/x\\"));
    }

    @Test
    void readsTheRoot() throws Exception {
        assertNotNull(MountTable.at(Path.of("/")));
        assertFalse(FuseMount.isStale(Path.of("/")));
    }
}
