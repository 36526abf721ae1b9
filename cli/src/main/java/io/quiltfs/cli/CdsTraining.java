package io.quiltfs.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * The training run behind the launcher's class-data-sharing archive: runs the common commands
 * once, on throwaway data, so that the JVM can list every class they load
 * ({@code -XX:DumpLoadedClassList}; {@code scripts/cds-archive} then dumps them with
 * {@code -Xshare:dump}); later runs map those classes instead of loading them, which takes a
 * large share off the start of every command. Output is discarded; a failure
 * only makes the archive smaller.
 */
final class CdsTraining {
    private CdsTraining() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory("quiltfs-cds-");
        try {
            Path data = Files.createDirectories(dir.resolve("data"));
            Files.writeString(data.resolve("a.txt"), "hello\n");
            Files.writeString(data.resolve("b.txt"), "world\n");
            Path manifest = dir.resolve("m.jsonl");
            Files.writeString(manifest, String.join("\n",
                    "{\"message\":\"training\",\"user_meta\":{\"k\":[1,2.5,null]},\"version\":\"v0\"}",
                    "{\"logical_key\":\"a.txt\",\"physical_keys\":[\"file:///tmp/a.txt\"],\"size\":6,"
                            + "\"hash\":{\"type\":\"sha2-256-chunked\","
                            + "\"value\":\"WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=\"},\"meta\":{}}",
                    "{\"logical_key\":\"d\\u00e9j\\u00e0/b.txt\",\"physical_keys\":[\"file:///tmp/b.txt\"],"
                            + "\"size\":6,\"hash\":{\"type\":\"SHA256\",\"value\":"
                            + "\"e258d248fda94c63753607f7c4494ee0fcbe92f1a76bfdac795c9d84101eb317\"},"
                            + "\"meta\":{\"user_meta\":{\"x\":1}}}",
                    ""), StandardCharsets.UTF_8);
            String registry = dir.resolve("registry").toUri().toString();
            run("--help");
            run("hash", data.resolve("a.txt").toString(), data.resolve("b.txt").toString());
            run("hash", "--type", "SHA256", data.resolve("a.txt").toString());
            run("hash", "--type", "CRC64NVME", data.resolve("a.txt").toString());
            run("--json", "hash", data.resolve("a.txt").toString());
            run("manifest", "tophash", manifest.toString());
            run("manifest", "validate", manifest.toString());
            String home = dir.resolve("home").toString();
            run("--home", home, "build", "train/pkg", data.toString(),
                    "--registry", registry, "-m", "training");
            run("browse", registry);
            run("browse", registry, "train/pkg");
            // The daily workflow, from a second home: install, edit, status, commit, push, log, tags,
            // pull, uninstall (each command's own classes, and the state files' readers and writers).
            String other = dir.resolve("other").toString();
            Path work = dir.resolve("work");
            run("--home", other, "install", "train/pkg", "--registry", registry, "--dest", work.toString());
            run("--home", other, "status", "train/pkg");
            Files.writeString(work.resolve("a.txt"), "hello again\n");
            Files.writeString(work.resolve("c.txt"), "new\n");
            run("--home", other, "status", "train/pkg");
            run("--home", other, "--json", "status", "train/pkg");
            run("--home", other, "commit", "train/pkg", "-m", "training edit", "--meta", "{\"k\":1}");
            run("--home", other, "push", "train/pkg");
            run("--home", other, "log", "train/pkg");
            run("--home", other, "tag", "train/pkg", "v1");
            run("--home", other, "tag", "train/pkg");
            run("--home", home, "install", "train/pkg:v1", "--registry", registry, "--path", "a.txt");
            run("--home", home, "pull", "train/pkg");
            run("--home", other, "uninstall", "train/pkg", "--force");
            run("hash", dir.resolve("missing").toString());
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void run(String... args) {
        CommandLine cl = Cli.commandLine();
        cl.setOut(new PrintWriter(Writer.nullWriter()));
        cl.setErr(new PrintWriter(Writer.nullWriter()));
        try {
            cl.execute(args);
        } catch (RuntimeException e) {
            // Training only: whatever ran is archived.
        }
    }
}
