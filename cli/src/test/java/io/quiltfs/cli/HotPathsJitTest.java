package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The launcher's compiler directives ({@code scripts/c2-hot-paths.json}, given to the commands that
 * hash): the file parses on this JVM (a file it refuses stops every such command before it starts),
 * C2 still compiles SHA-256 (the CPU's SHA instructions come only with C2), and other hot code is
 * left to C1.
 */
class HotPathsJitTest {
    static final Path DIRECTIVES = Path.of("..", "scripts", "c2-hot-paths.json").toAbsolutePath().normalize();

    /** Hashes and fills maps long enough for both to be hot: run in a JVM under the directives. */
    public static void main(String[] args) throws Exception {
        byte[] block = new byte[1 << 20];
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        Map<Integer, Integer> map = new HashMap<>();
        long sum = 0;
        for (int round = 0; round < 400; round++) {
            md.update(block);
            for (int i = 0; i < 20_000; i++) {
                map.put(i, round);
            }
            sum += map.size();
        }
        System.out.println("done " + sum + " " + md.digest().length);
    }

    @Test
    void theLauncherGivesTheDirectivesToTheCommandsThatHash() throws IOException {
        String launcher = Files.readString(DIRECTIVES.getParent().getParent().resolve("quiltfs"));
        assertTrue(launcher.contains("scripts/c2-hot-paths.json"), "the launcher names the directives file");
        assertTrue(launcher.contains("install|commit|push|pull|build|hash|manifest|status) opts=(\"${hot[@]}\")"),
                "the hashing commands run with them");
    }

    @Test
    void c2CompilesSha256AndLeavesTheRestToC1() throws Exception {
        assertTrue(Files.isRegularFile(DIRECTIVES), DIRECTIVES + " exists");
        Path out = Files.createTempFile("jit", ".log");
        try {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:+UnlockDiagnosticVMOptions", "-XX:CompilerDirectivesFile=" + DIRECTIVES,
                    "-XX:+PrintCompilation", "-cp", System.getProperty("java.class.path"), HotPathsJitTest.class.getName())
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the JVM finished");
            List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
            String log = String.join("\n", lines);
            assertEquals(0, p.exitValue(), log.length() > 2000 ? log.substring(0, 2000) : log);
            assertTrue(log.contains("compiler directives added"), "the JVM took the directives");
            assertTrue(lines.stream().anyMatch(l -> l.contains("done ")), "the program ran");
            // PrintCompilation: "<time> <id> <flags> <tier> <method> (<size>)"; tier 4 is C2.
            assertTrue(lines.stream().anyMatch(l -> tier4(l) && l.contains("sun.security.provider.")),
                    "C2 compiled SHA-256's code");
            assertFalse(lines.stream().anyMatch(l -> tier4(l) && l.contains("java.util.HashMap::")),
                    "C2 compiled code outside the hot paths");
            assertTrue(lines.stream().anyMatch(l -> l.contains("java.util.HashMap::putVal")), "C1 compiled HashMap.putVal");
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** Whether a PrintCompilation line reports a compilation at tier 4 (not a "made not compilable" line). */
    private static boolean tier4(String line) {
        String[] f = line.trim().split("\\s+");
        if (f.length < 4 || !f[0].matches("[0-9]+") || !f[1].matches("[0-9]+")) {
            return false;
        }
        for (int i = 2; i < f.length - 1; i++) {
            if (f[i].matches("[0-4]")) {
                return f[i].equals("4");
            }
        }
        return false;
    }
}
