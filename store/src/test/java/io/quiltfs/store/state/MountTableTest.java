package io.quiltfs.store.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Reading the kernel's mount table. */
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
    }

    @Test
    void mountPointsBelowAFolderAreStrictlyBelowIt() throws Exception {
        // "/" holds every other mount point and is not below itself.
        var below = MountTable.below(Path.of("/"));
        assertTrue(below.stream().noneMatch(p -> p.equals(Path.of("/"))), below.toString());
        assertTrue(below.stream().allMatch(p -> p.startsWith("/")), below.toString());
        assertEquals(MountTable.read().stream().map(MountTable.Mount::mountpoint).filter(p -> !p.equals(Path.of("/")))
                .distinct().count(), below.size());
    }
}
