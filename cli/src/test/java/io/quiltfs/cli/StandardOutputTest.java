package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a command printed that never reached standard output (a full disk) fails the command,
 * naming it on one line, instead of exiting 0 over a cut-short answer; a reader that closes the
 * pipe early ({@code | head -1}) asked for no more and is no failure, and prints no stack trace.
 */
class StandardOutputTest {
    @TempDir
    Path tmp;

    private Path reg;

    @BeforeEach
    void registry() throws IOException {
        reg = tmp.resolve("registry");
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "a");
        for (int i = 0; i < 3; i++) {
            assertEquals(0, CliRunner.run("--home", tmp.resolve("home").toString(), "build", "team/pkg",
                    src.toString(), "-r", reg.toString(), "-m", "v" + i).code());
        }
    }

    /** A stream that fails every write as a full disk does. */
    static final class FullDisk extends OutputStream {
        @Override
        public void write(int b) throws IOException {
            throw new IOException("No space left on device");
        }
    }

    @Test
    void aFullDiskFailsTheCommand() {
        String home = tmp.resolve("home").toString();
        assertEquals(ExitCodes.FAILURE, Main.run(new FullDisk(), "--home", home, "browse", reg.toString(), "team/pkg"));
        assertEquals(ExitCodes.FAILURE, Main.run(new FullDisk(), "--home", home, "--json", "log", "team/pkg", "-r",
                reg.toString()));
        // The code of a command that failed on its own is kept.
        assertEquals(ExitCodes.NOT_FOUND, Main.run(new FullDisk(), "--home", home, "--json", "browse", reg.toString(),
                "no/such"));
        // Nothing printed, nothing lost.
        assertEquals(ExitCodes.OK, Main.run(new FullDisk(), "--home", home, "tag", "team/pkg", "-r", reg.toString()));
    }

    private Process quiltfs(ProcessBuilder.Redirect stdout, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "io.quiltfs.cli.Main", "--home", tmp.resolve("home").toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectOutput(stdout)
                .redirectError(tmp.resolve("stderr").toFile()).start();
    }

    @Test
    void toDevFullItSaysSoAndExits1() throws Exception {
        Path full = Path.of("/dev/full");
        assumeTrue(Files.exists(full), "no /dev/full here");
        for (String[] args : List.of(new String[] {"browse", reg.toString(), "team/pkg"},
                new String[] {"--json", "log", "team/pkg", "-r", reg.toString()})) {
            Process p = quiltfs(ProcessBuilder.Redirect.to(full.toFile()), args);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            String err = Files.readString(tmp.resolve("stderr"));
            assertEquals(ExitCodes.FAILURE, p.exitValue(), err);
            assertEquals(List.of("quiltfs: error: writing to standard output failed (No space left on device): what"
                    + " was printed is incomplete"), err.lines().toList());
        }
    }

    @Test
    void aReaderThatLeavesEarlyIsNoFailure() throws Exception {
        Process p = quiltfs(ProcessBuilder.Redirect.PIPE, "log", "team/pkg", "-r", reg.toString());
        p.getInputStream().close(); // as `| head -0`: the pipe has no reader before the first line
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals("", Files.readString(tmp.resolve("stderr")));
        assertEquals(ExitCodes.OK, p.exitValue());
    }
}
