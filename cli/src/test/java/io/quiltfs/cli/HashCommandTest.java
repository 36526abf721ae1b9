package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code quiltfs hash} on what sha256sum also takes: standard input, pipes, /proc files, odd names. */
class HashCommandTest {
    static final String ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    @TempDir
    Path tmp;

    @Test
    void dashIsStandardInputReadOnce() throws Exception {
        Path a = Files.writeString(tmp.resolve("a"), "abc");
        InputStream was = System.in;
        System.setIn(new ByteArrayInputStream("abc".getBytes(StandardCharsets.US_ASCII)));
        try {
            CliRunner.Result r = CliRunner.run("hash", "-t", "SHA256", "-", a.toString(), "-");
            assertEquals(0, r.code(), r.err());
            // as sha256sum: the second "-" finds standard input at its end
            assertEquals(ABC_SHA256 + "  -\n" + ABC_SHA256 + "  " + a + "\n" + EMPTY_SHA256 + "  -\n", r.out());
        } finally {
            System.setIn(was);
        }
        System.setIn(new ByteArrayInputStream("abc".getBytes(StandardCharsets.US_ASCII)));
        try {
            // sha2-256-chunked of a stream: the same value as of the file
            CliRunner.Result r = CliRunner.run("hash", "-");
            assertEquals(CliRunner.run("hash", a.toString()).out().replace(a.toString(), "-"), r.out());
        } finally {
            System.setIn(was);
        }
    }

    @Test
    void aFifoIsReadToItsEnd() throws Exception {
        Path fifo = tmp.resolve("fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        Assumptions.assumeTrue(mk.waitFor() == 0, "mkfifo");
        Thread writer = new Thread(() -> {
            try {
                Files.writeString(fifo, "abc"); // blocks until the command opens it
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        writer.start();
        try {
            CliRunner.Result r = CliRunner.run("hash", "-t", "SHA256", fifo.toString());
            assertEquals(0, r.code(), r.err());
            assertEquals(ABC_SHA256 + "  " + fifo + "\n", r.out());
        } finally {
            // A writer still waiting for a reader (the command never opened the FIFO) ends once
            // it is open for reading: opened read-write, which does not block on Linux.
            java.nio.channels.FileChannel.open(fifo, java.nio.file.StandardOpenOption.READ,
                    java.nio.file.StandardOpenOption.WRITE).close();
            writer.join();
        }
    }

    @Test
    void aProcFileWhoseSizeReadsAsZeroIsHashedByItsContent() throws Exception {
        Path proc = Path.of("/proc/version");
        Assumptions.assumeTrue(Files.isReadable(proc) && Files.size(proc) == 0, "a Linux /proc");
        String want = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(proc)));
        CliRunner.Result r = CliRunner.run("hash", "-t", "SHA256", proc.toString());
        assertEquals(want + "  " + proc + "\n", r.out());
    }

    @Test
    void namesWithANewlineOrABackslashAreEscapedAsSha256sumEscapesThem() throws Exception {
        Path nl = Files.writeString(tmp.resolve("new\nline"), "abc");
        Path bs = Files.writeString(tmp.resolve("back\\slash"), "abc");
        Path cr = Files.writeString(tmp.resolve("car\rriage"), "abc");
        Path plain = Files.writeString(tmp.resolve("plain"), "abc");
        CliRunner.Result r = CliRunner.run("hash", "-t", "SHA256", nl.toString(), bs.toString(), cr.toString(),
                plain.toString());
        assertEquals(0, r.code(), r.err());
        String dir = tmp.toString();
        assertEquals("\\" + ABC_SHA256 + "  " + dir + "/new\\nline\n"
                + "\\" + ABC_SHA256 + "  " + dir.replace("\\", "\\\\") + "/back\\\\slash\n"
                + "\\" + ABC_SHA256 + "  " + dir + "/car\\rriage\n"
                + ABC_SHA256 + "  " + plain + "\n", r.out());
        // byte for byte what sha256sum prints, where it is installed
        Process p;
        try {
            p = new ProcessBuilder("sha256sum", nl.toString(), bs.toString(), cr.toString(), plain.toString()).start();
        } catch (java.io.IOException e) {
            return;
        }
        String theirs = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor());
        assertEquals(theirs, r.out());
        // an error line is one line too
        r = CliRunner.run("hash", tmp.resolve("gone\nmissing").toString());
        assertEquals(ExitCodes.NOT_FOUND, r.code());
        assertEquals("quiltfs: error: no such file: " + dir + "/gone\\nmissing\n", r.err());
        // a name the JVM could not decode (bytes that are not UTF-8) is named as what it may be
        r = CliRunner.run("hash", tmp.resolve("\uFFFD.bin").toString());
        assertEquals(ExitCodes.NOT_FOUND, r.code());
        assertTrue(r.err().contains("if its name is not valid UTF-8"), r.err());
        // JSON carries the name as it is
        r = CliRunner.run("--json", "hash", "-t", "SHA256", nl.toString());
        assertTrue(io.quiltfs.store.json.Json.parse(r.out()).get(0).get("file").asText().equals(nl.toString()), r.out());
    }
}
