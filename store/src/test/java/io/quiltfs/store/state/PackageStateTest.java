package io.quiltfs.store.state;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quiltfs.store.workflow.PathFilter;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Globs recorded before {@code **}{@code /} could match no folder keep their meaning when read now. */
class PackageStateTest {
    static final List<String> KEYS = List.of("a.csv", "d/a.csv", "d/e/a.csv", "x/d/a.csv", "x/d/e/a.csv", "d.csv/x",
            "d/x/y/z.csv", "a", "d/a", "d/e", "x/y/z", "dd/a.csv", "d/d/a.csv", "a/b.csv", "ab.csv");
    static final List<String> OLD = List.of("**/*.csv", "d/**/*.csv", "**/d/**/a.csv", "**/**/*.csv", "d/**",
            "**", "a**/b.csv", "**/e", "*/**/a.csv", "d/**/", "**/*.{csv,x}", "d/*/**/*.csv", "**/d/a.csv");

    @Test
    void anOldGlobConvertedMatchesUnderTheNewRulesWhatItMatchedUnderJavaNio() {
        for (String old : OLD) {
            PathMatcher nio = FileSystems.getDefault().getPathMatcher("glob:" + old);
            String converted = PackageState.fromGlobSyntax0(List.of(old)).get(0);
            PathFilter now = new PathFilter(List.of(converted));
            for (String k : KEYS) {
                // The literal spelling of a glob also matches (a key named with metacharacters); no key here has one.
                assertEquals(nio.matches(Path.of(k)), now.matches(k), old + " -> " + converted + " on " + k);
            }
        }
    }

    @Test
    void onlyADoubleStarSlashThatMayNowMatchNoFolderIsConverted() {
        assertEquals(List.of("*/**/*.csv", "d/*/**/x", "*/**/*/**/a", "a**/b", "\\**/b", "data", "d/**"),
                PackageState.fromGlobSyntax0(List.of("**/*.csv", "d/**/x", "**/**/a", "a**/b", "\\**/b", "data",
                        "d/**")));
    }
}
