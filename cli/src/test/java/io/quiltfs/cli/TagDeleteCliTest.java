package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.json.Json;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `tag --delete NS/NAME TAG [HASH]`: with HASH, only the tag that names it goes. */
class TagDeleteCliTest {
    @TempDir
    Path tmp;

    @Test
    void aDeleteWithAHashTheTagDoesNotNameIsRefusedAndKeepsTheTag() throws IOException {
        String reg = TestRegistries.LOCAL.newRegistry(tmp);
        String home = tmp.resolve("home").toString();
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "a\n");
        CliRunner.Result b = CliRunner.run("--home", home, "build", "t/p", src.toString(), "-r", reg, "-m", "one");
        assertEquals(0, b.code(), b.err());
        String top = b.out().strip();
        assertEquals(0, CliRunner.run("--home", home, "tag", "t/p", "v1", "-r", reg).code());

        CliRunner.Result other = CliRunner.run("--home", home, "tag", "--delete", "t/p", "v1", "abcdef", "-r", reg);
        assertEquals(ExitCodes.CONFLICT, other.code(), other.err());
        assertTrue(other.err().contains("names " + top + ", not abcdef"), other.err());
        CliRunner.Result notHex = CliRunner.run("--home", home, "tag", "--delete", "t/p", "v1", "t/p:v2", "-r", reg);
        assertEquals(ExitCodes.USAGE, notHex.code(), notHex.err());
        assertEquals("v1  " + top, CliRunner.run("--home", home, "tag", "t/p", "-r", reg).out().strip(), "kept");

        CliRunner.Result d = CliRunner.run("--home", home, "--json", "tag", "--delete", "t/p", "v1", top.substring(0, 8),
                "-r", reg);
        assertEquals(0, d.code(), d.err());
        assertEquals(top, Json.parse(d.out()).get("top_hash").asText());
        assertEquals("", CliRunner.run("--home", home, "tag", "t/p", "-r", reg).out().strip(), "gone");
    }
}
