package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A package whose name parts are as long as a file name may be (255 bytes of UTF-8 each) goes
 * through the whole workflow: its lock files, which join both parts, get bounded names.
 */
class LongNameRegistryTest {
    static final String NS = "é".repeat(127) + "a";
    static final String NAME = "名".repeat(85);
    static final String PKG = NS + "/" + NAME;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void theLongestPackageNameBuildsInstallsCommitsPushesTagsAndLogs(TestRegistries.Kind kind) throws IOException {
        assertEquals(255, NS.getBytes(StandardCharsets.UTF_8).length);
        assertEquals(255, NAME.getBytes(StandardCharsets.UTF_8).length);
        String reg = kind.newRegistry(tmp);
        String home = tmp.resolve("home").toString();
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "a\n");
        CliRunner.Result b = CliRunner.run("--home", home, "build", PKG, src.toString(), "-r", reg, "-m", "one");
        assertEquals(0, b.code(), b.err());

        Path work = tmp.resolve("work");
        CliRunner.Result i = CliRunner.run("--home", home, "install", PKG, "-r", reg, "--dest", work.toString());
        assertEquals(0, i.code(), i.err());
        Files.writeString(work.resolve("b.txt"), "b\n");
        CliRunner.Result c = CliRunner.run("--home", home, "commit", PKG, "-m", "two");
        assertEquals(0, c.code(), c.err());
        CliRunner.Result s = CliRunner.run("--home", home, "status", PKG);
        assertEquals(0, s.code(), s.err());
        CliRunner.Result p = CliRunner.run("--home", home, "push", PKG);
        assertEquals(0, p.code(), p.err());
        CliRunner.Result t = CliRunner.run("--home", home, "tag", PKG, "v1");
        assertEquals(0, t.code(), t.err());
        CliRunner.Result l = CliRunner.run("--home", home, "log", PKG);
        assertEquals(0, l.code(), l.err());
        assertTrue(l.out().contains("two [latest] [head] [v1]"), l.out());
        assertTrue(l.out().contains("  one"), l.out());
        CliRunner.Result d = CliRunner.run("--home", home, "tag", "--delete", PKG, "v1");
        assertEquals(0, d.code(), d.err());
    }
}
