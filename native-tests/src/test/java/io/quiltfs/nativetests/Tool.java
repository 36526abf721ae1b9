package io.quiltfs.nativetests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs an ordinary tool (ls, cat, find, ...) with a timeout and captures what it printed. */
final class Tool {
    record Result(int exit, String out, String err) {
        Result ok() {
            if (exit != 0) {
                throw new AssertionError("exit " + exit + ": " + err + out);
            }
            return this;
        }
    }

    private Tool() {
    }

    static Result run(String... cmd) throws IOException, InterruptedException {
        return run(null, cmd);
    }

    static Result run(Path dir, String... cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile("tool", ".out");
        Path err = Files.createTempFile("tool", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
            if (dir != null) {
                pb.directory(dir.toFile());
            }
            Process p = pb.start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("timed out: " + Arrays.toString(cmd));
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** {@code sh -c script}. */
    static Result sh(String script) throws IOException, InterruptedException {
        return run("sh", "-c", script);
    }

    /** The command line that runs the quiltfs CLI from the test's class path. */
    static List<String> quiltfs(Path home, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("io.quiltfs.cli.Main");
        cmd.add("--home");
        cmd.add(home.toString());
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }
}
