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

    /** sha256sum's answers: f1/ is "Not a directory" (a Path drops the slash), a//f1 is printed as given. */
    @Test
    void namesArePrintedAsGivenAndATrailingSlashNeedsAFolder() throws Exception {
        Path f1 = Files.writeString(Files.createDirectories(tmp.resolve("a")).resolve("f1"), "abc");
        String doubled = tmp.resolve("a") + "//f1";
        CliRunner.Result r = CliRunner.run("hash", "-t", "SHA256", f1 + "/", doubled, tmp.resolve("a") + "/");
        assertEquals(ExitCodes.FAILURE, r.code(), "a failure to read beats a folder's 4");
        assertEquals(ABC_SHA256 + "  " + doubled + "\n", r.out());
        assertEquals("quiltfs: error: " + f1 + "/: Not a directory\n"
                + "quiltfs: error: " + tmp.resolve("a") + "/ is a folder\n", r.err());
        r = CliRunner.run("hash", "-t", "SHA256", f1 + "/x");
        assertEquals(ExitCodes.FAILURE, r.code());
        assertEquals("quiltfs: error: " + f1 + "/x: Not a directory\n", r.err());
    }

    /** A /sys attribute reports 4096 bytes and holds fewer: read to its end, as sha256sum reads it. */
    @Test
    void aSysFileShorterThanItsSizeIsHashedByItsContent() throws Exception {
        Path sys = null;
        byte[] content = null;
        for (String c : new String[] {"/sys/kernel/mm/transparent_hugepage/enabled", "/sys/class/net/lo/address",
                "/sys/devices/system/cpu/online", "/sys/kernel/uevent_seqnum", "/sys/power/state"}) {
            Path p = Path.of(c);
            try {
                byte[] b = Files.readAllBytes(p);
                if (Files.size(p) > b.length && b.length > 0) {
                    sys = p;
                    content = b;
                    break;
                }
            } catch (java.io.IOException e) {
                // not on this machine
            }
        }
        Assumptions.assumeTrue(sys != null, "no readable /sys file shorter than its size");
        String want = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        CliRunner.Result r = CliRunner.run("hash", "-t", "SHA256", sys.toString(), sys.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(want + "  " + sys + "\n" + want + "  " + sys + "\n", r.out());
    }

    /**
     * Through the launcher, as a user runs it: standard input closed is refused as sha256sum
     * refuses it (the JVM would otherwise read a file it opened as descriptor 0), and standard
     * input redirected from a file is hashed by the file's size, left at its end for a second
     * "-", and from where it stands when part of it was read.
     */
    @Test
    void throughTheLauncherStandardInputClosedOrAFile() throws Exception {
        Path launcher = Path.of("..", "quiltfs").toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isExecutable(launcher), "the launcher beside the cli module");
        // A jar that runs these classes (not a build: the launcher runs QUILTFS_JAR as it is)
        Path jar = tmp.resolve("jar").resolve("quiltfs.jar");
        Files.createDirectories(jar.getParent());
        java.util.jar.Manifest mf = new java.util.jar.Manifest();
        mf.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().put(java.util.jar.Attributes.Name.MAIN_CLASS, "io.quiltfs.cli.Main");
        StringBuilder cp = new StringBuilder();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            cp.append(Path.of(e).toAbsolutePath().toUri()).append(' ');
        }
        mf.getMainAttributes().put(java.util.jar.Attributes.Name.CLASS_PATH, cp.toString().strip());
        new java.util.jar.JarOutputStream(Files.newOutputStream(jar), mf).close();
        Path abc = Files.writeString(tmp.resolve("abc"), "abc");

        Launched r = launch(launcher, jar, "hash -t SHA256 - <&-");
        assertEquals(ExitCodes.FAILURE, r.code(), r.out() + r.err());
        assertEquals("", r.out());
        assertEquals("quiltfs: error: standard input: Bad file descriptor (it is closed)\n", r.err());

        r = launch(launcher, jar, "hash -t SHA256 - - < '" + abc + "'");
        assertEquals(0, r.code(), r.err());
        assertEquals(ABC_SHA256 + "  -\n" + EMPTY_SHA256 + "  -\n", r.out());
        r = launch(launcher, jar, "hash - < '" + abc + "'");
        assertEquals(CliRunner.run("hash", abc.toString()).out().replace(abc.toString(), "-"), r.out(), r.err());
        r = launch(launcher, jar, "{ head -c 1 >/dev/null; '" + launcher + "' hash -t SHA256 -; } < '" + abc + "'");
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest("bc".getBytes(
                StandardCharsets.US_ASCII))) + "  -\n", r.out(), r.err());

        // A /proc file (seq_file) refuses the lseek a buffered stream's available() makes.
        byte[] version = Files.readAllBytes(Path.of("/proc/version"));
        r = launch(launcher, jar, "hash -t SHA256 - < /proc/version");
        assertEquals(0, r.code(), r.err());
        assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(version)) + "  -\n", r.out());
    }

    record Launched(int code, String out, String err) {
    }

    /** Runs {@code bash -c} with the launcher as the command line's first word (unless it names it). */
    private Launched launch(Path launcher, Path jar, String command) throws Exception {
        String line = command.startsWith("{") ? command : "'" + launcher + "' " + command;
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", line).redirectInput(ProcessBuilder.Redirect.from(
                Path.of("/dev/null").toFile()));
        pb.environment().put("QUILTFS_JAR", jar.toString());
        pb.environment().put("QUILTFS_CDS", "0");
        Path out = tmp.resolve("launched.out");
        Path err = tmp.resolve("launched.err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), line);
        return new Launched(p.exitValue(), Files.readString(out), Files.readString(err));
    }
}
