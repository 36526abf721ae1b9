package io.quiltfs.store.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.workflow.Build;
import io.quiltfs.store.workflow.WorkFolder;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogicalKeyTest {
    @TempDir
    Path tmp;

    @Test
    void unpairedSurrogatesAreRefusedAndPrintedEscaped() {
        assertEquals("logical key contains an unpaired surrogate (\\ud800), which is not Unicode text",
                LogicalKey.problem("a\ud800"));
        assertTrue(LogicalKey.problem("\udc00b/c").contains("(\\udc00)"));
        assertTrue(LogicalKey.problem("x/\ud83d", false).contains("(\\ud83d)"));
        assertNull(LogicalKey.problem("a\ud83d\ude00/b"));
        assertEquals("a\\ud800\\x0a\ud83d\ude00", LogicalKey.printable("a\ud800\n\ud83d\ude00"));
        assertEquals("\\udc00\\ud800", LogicalKey.printable("\udc00\ud800"));
        assertEquals("plain", LogicalKey.printable("plain"));
    }

    /** Creates a file whose name holds the byte 0xFF (not UTF-8); Java cannot spell that name. */
    private Path nonUtf8File(Path dir) throws Exception {
        Files.createDirectories(dir);
        Process p = new ProcessBuilder("sh", "-c", "touch \"$(printf 'bad\\377name')\"").directory(dir.toFile())
                .inheritIO().start();
        assertEquals(0, p.waitFor());
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "bad*")) {
            return s.iterator().next();
        }
    }

    @Test
    void fileNamesThatAreNotUtf8AreRefusedWhenListed() throws Exception {
        Path dir = tmp.resolve("d");
        Path bad = nonUtf8File(dir.resolve("sub"));
        Path fine = Files.writeString(dir.resolve("what?\u00e9\uFFFD"), "x");
        String key = "sub/" + bad.getFileName();
        assertEquals("file name is not valid UTF-8, so it cannot be a logical key (" + dir.toUri().getRawPath()
                + "sub/bad%FFname, percent-encoded)", LogicalKey.problem(key, bad));
        assertNull(LogicalKey.problem("what?\u00e9\uFFFD", fine));
        assertEquals(LogicalKey.problem("a//b"), LogicalKey.problem("a//b", fine));
        // Both walks over a folder (build; status and commit of a working folder) refuse it
        // instead of recording a key that names another file.
        IOException e = assertThrows(IOException.class, () -> Build.scan(dir));
        assertTrue(e.getMessage().contains("bad%FFname") && e.getMessage().contains("not valid UTF-8"), e.getMessage());
        e = assertThrows(IOException.class, () -> new WorkFolder(dir).scan(1));
        assertTrue(e.getMessage().contains("bad%FFname") && e.getMessage().contains("not valid UTF-8"), e.getMessage());
    }
}
