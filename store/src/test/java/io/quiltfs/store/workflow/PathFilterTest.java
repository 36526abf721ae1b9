package io.quiltfs.store.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class PathFilterTest {
    @Test
    void foldersGlobsAndEverything() {
        PathFilter f = new PathFilter(List.of("data", "*.txt", "img/**/*.png"));
        assertTrue(f.matches("data/a.csv"));
        assertTrue(f.matches("data/deep/b.csv"));
        assertFalse(f.matches("database/x"));
        assertTrue(f.matches("a.txt"));
        assertFalse(f.matches("docs/a.txt"), "* stays within a folder");
        assertTrue(f.matches("img/x/y/z.png"));
        assertFalse(f.matches("img/z.jpg"));
        assertTrue(PathFilter.ALL.matches("anything/at/all"));
        assertNull(PathFilter.ALL.globs());
        assertTrue(new PathFilter(List.of("data/")).matches("data/a"));
    }

    @Test
    void union() {
        PathFilter f = new PathFilter(List.of("a"));
        assertEquals(List.of("a", "b"), f.union(List.of("b", "a")).globs());
        assertTrue(f.union(null).all());
        assertTrue(PathFilter.ALL.union(List.of("x")).all());
    }
}
