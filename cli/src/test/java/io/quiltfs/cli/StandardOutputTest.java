package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
        return quiltfs(stdout, Map.of(), args);
    }

    private Process quiltfs(ProcessBuilder.Redirect stdout, Map<String, String> env, String... args)
            throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "io.quiltfs.cli.Main", "--home", tmp.resolve("home").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        return pb.redirectOutput(stdout).redirectError(tmp.resolve("stderr").toFile()).start();
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
            assertEquals(List.of("quiltfs: error: writing to standard output failed (No space left on device): the"
                    + " command itself completed and need not be run again; only what it printed is lost"),
                    err.lines().toList());
        }
    }

    /**
     * A command whose work was done (a build made a revision) and only its output lost says so:
     * run again, it would make a second revision. One that failed on its own keeps its code and
     * says its output is incomplete.
     */
    @Test
    void aCommandThatDidItsWorkSaysSoWhenOnlyItsOutputIsLost() throws Exception {
        Path full = Path.of("/dev/full");
        assumeTrue(Files.exists(full), "no /dev/full here");
        Process p = quiltfs(ProcessBuilder.Redirect.to(full.toFile()), "build", "team/pkg",
                tmp.resolve("src").toString(), "-r", reg.toString(), "-m", "v3");
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String err = Files.readString(tmp.resolve("stderr"));
        assertEquals(ExitCodes.FAILURE, p.exitValue(), err);
        assertEquals(List.of("quiltfs: error: writing to standard output failed (No space left on device): the"
                + " command itself completed and need not be run again; only what it printed is lost"),
                err.lines().toList());
        try (var pointers = Files.list(reg.resolve(".quilt/named_packages/team/pkg"))) {
            assertEquals(5, pointers.count(), "the build made its revision: 4 timestamp pointers and latest");
        }

        p = quiltfs(ProcessBuilder.Redirect.to(full.toFile()), "--json", "browse", reg.toString(), "no/such");
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        err = Files.readString(tmp.resolve("stderr"));
        assertEquals(ExitCodes.NOT_FOUND, p.exitValue(), err);
        assertTrue(err.endsWith("quiltfs: error: writing to standard output failed (No space left on device): what"
                + " was printed is incomplete\n"), err);
    }

    @Test
    void whetherTheReaderCanLeaveIsWhatDescriptor1IsOpenOn() throws IOException {
        Path link = tmp.resolve("fd");
        for (String target : List.of("pipe:[4026]", "socket:[77]", "/dev/full", "/tmp/out.json", "/dev/pts/0")) {
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, Path.of(target));
            assertEquals(target.startsWith("pipe:") || target.startsWith("socket:"), StandardOutput.readerCanLeave(link),
                    target);
        }
        Files.delete(link);
        assertFalse(StandardOutput.readerCanLeave(link), "a closed descriptor 1 lost what was printed");
    }

    @Test
    void aReaderThatLeavesEarlyIsNoFailure() throws Exception {
        readerLeaves(Map.of("LC_ALL", "C"));
    }

    /**
     * Also where the C library translates "Broken pipe" (the JVM sets the locale from the
     * environment): a German locale compiled here, when localedef can.
     */
    @Test
    void aReaderThatLeavesEarlyIsNoFailureInAnotherLanguage() throws Exception {
        Path locales = Files.createDirectories(tmp.resolve("locales"));
        int made;
        try {
            Process def = new ProcessBuilder("localedef", "-i", "de_DE", "-f", "UTF-8",
                    locales.resolve("de_DE.UTF-8").toString()).redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("localedef.log").toFile()).start();
            assertTrue(def.waitFor(60, TimeUnit.SECONDS));
            made = def.exitValue();
        } catch (IOException e) {
            made = -1; // no localedef here
        }
        assumeTrue(made == 0 && Files.isDirectory(locales.resolve("de_DE.UTF-8")), "cannot compile a German locale here");
        readerLeaves(Map.of("LOCPATH", locales.toString(), "LC_ALL", "de_DE.UTF-8", "LANGUAGE", "de"));
    }

    private void readerLeaves(Map<String, String> env) throws Exception {
        Process p = quiltfs(ProcessBuilder.Redirect.PIPE, env, "log", "team/pkg", "-r", reg.toString());
        p.getInputStream().close(); // as `| head -0`: the pipe has no reader before the first line
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals("", Files.readString(tmp.resolve("stderr")));
        assertEquals(ExitCodes.OK, p.exitValue());
    }
}
