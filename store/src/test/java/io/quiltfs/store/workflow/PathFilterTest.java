package io.quiltfs.store.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
    void doubleStarSlashAlsoMatchesNoFolder() {
        PathFilter f = new PathFilter(List.of("**/*.txt"));
        assertTrue(f.matches("top.txt"), "**/ matches no folder too, as in gitignore and globstar");
        assertTrue(f.matches("docs/r.txt"));
        assertTrue(f.matches("docs/deep/r.txt"));
        assertFalse(f.matches("top.csv"));
        PathFilter mid = new PathFilter(List.of("a/**/b.csv"));
        assertTrue(mid.matches("a/b.csv"));
        assertTrue(mid.matches("a/x/y/b.csv"));
        assertFalse(mid.matches("ab.csv"));
        assertFalse(mid.matches("b.csv"));
        PathFilter twice = new PathFilter(List.of("**/x/**/*.png"));
        assertTrue(twice.matches("x/a.png"));
        assertTrue(twice.matches("q/x/r/a.png"));
        assertFalse(twice.matches("xa.png"));
        assertFalse(new PathFilter(List.of("\\**/a")).matches("a"), "an escaped * is no globstar");
        assertTrue(new PathFilter(List.of("\\**/a")).matches("*/a"));
    }

    @Test
    void keysWithMetacharactersMatchAsSpelled() {
        PathFilter f = new PathFilter(List.of("we[i]rd*.txt", "q?.txt"));
        assertTrue(f.matches("we[i]rd*.txt"));
        assertTrue(f.matches("q?.txt"));
        assertTrue(f.matches("weird-anything.txt"), "and as a glob");
        assertTrue(new PathFilter(List.of("we\\[i\\]rd\\*.txt")).matches("we[i]rd*.txt"));
        assertFalse(new PathFilter(List.of("we\\[i\\]rd\\*.txt")).matches("weird-anything.txt"));
    }

    @Test
    void aLeadingDotSlashIsDroppedAndAGlobNamingNoKeyIsRefused() {
        PathFilter f = new PathFilter(List.of("./data"));
        assertEquals(List.of("data"), f.globs());
        assertTrue(f.matches("data/a.csv"));
        assertEquals(List.of("data"), f.union(List.of("./data")).globs());
        for (String bad : new String[] {"", "./", "."}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new PathFilter(List.of(bad)));
            assertTrue(e.getMessage().startsWith("invalid --path glob '" + bad + "'"), e.getMessage());
        }
    }

    @Test
    void anInvalidGlobIsOneClearLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PathFilter(List.of("data/[ab")));
        assertEquals("invalid --path glob 'data/[ab': missing ']' (escape a literal *, ?, [, ], {, }"
                + " or \\ with \\)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new PathFilter(List.of("**/{a,b")));
        assertTrue(e.getMessage().startsWith("invalid --path glob '**/{a,b': missing '}'"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void union() {
        PathFilter f = new PathFilter(List.of("a"));
        assertEquals(List.of("a", "b"), f.union(List.of("b", "a")).globs());
        assertTrue(f.union(null).all());
        assertTrue(PathFilter.ALL.union(List.of("x")).all());
    }
}
