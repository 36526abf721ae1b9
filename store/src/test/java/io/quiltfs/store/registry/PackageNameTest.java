package io.quiltfs.store.registry;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Package names are what quilt3's {@code ^[\w-]+/[\w-]+$} accepts (Python's Unicode {@code \w}). */
class PackageNameTest {
    @Test
    void quilt3sNamesAndNoOthers() {
        for (String ok : new String[] {"team/data", "a_b/c-d", "team/caf\u00e9", "\u65e5\u672c/\u30c7\u30fc\u30bf",
                "ns/x\u00b2", "ns/\u216b", "ns/\u0661\u0662"}) {
            assertTrue(PackageName.isValid(ok), ok);
        }
        // The decomposed spelling of café has a combining accent (Mn): not a word character.
        for (String bad : new String[] {"team/cafe\u0301", "team/a.b", "team/a b", "ns/name\n", "../x", "a/b/c",
                "ns/\u00a0", "ns/a\u200db", "ns/\ud83d\ude00", "ns/", "/x", "ns/a+b"}) {
            assertFalse(PackageName.isValid(bad), bad);
        }
    }
}
