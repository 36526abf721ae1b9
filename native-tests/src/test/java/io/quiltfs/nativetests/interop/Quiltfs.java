package io.quiltfs.nativetests.interop;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.cli.Cli;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.testing.TestRegistries;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;

/**
 * quiltfs as a test peer: its command line run in-process with its own home, output captured.
 * Global options go before the subcommand: {@code --home}, and {@code --endpoint} when the
 * registry kind has one.
 */
final class Quiltfs {
    private final Path home;
    private final String endpoint;
    private final java.util.Map<String, String> environment;

    Quiltfs(Path home, TestRegistries.Kind kind) {
        this.home = home;
        var env = kind.environment();
        this.environment = env;
        this.endpoint = env.getOrDefault("AWS_ENDPOINT_URL_S3", env.get("AWS_ENDPOINT_URL"));
        // quiltfs runs in this JVM, where the AWS SDK's default chain reads credentials and
        // region from system properties (the environment of a running JVM cannot change).
        setIfAbsent("aws.accessKeyId", env.get("AWS_ACCESS_KEY_ID"));
        setIfAbsent("aws.secretAccessKey", env.get("AWS_SECRET_ACCESS_KEY"));
        setIfAbsent("aws.region", env.getOrDefault("AWS_REGION", env.get("AWS_DEFAULT_REGION")));
    }

    private static void setIfAbsent(String property, String value) {
        if (value != null && System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    Path home() {
        return home;
    }

    /** Runs {@code quiltfs ARGS}; returns exit code and output, whatever they are. */
    Result exec(String... args) {
        List<String> all = new ArrayList<>(List.of("--home", home.toString()));
        if (endpoint != null) {
            all.addAll(List.of("--endpoint", endpoint));
        }
        all.addAll(Arrays.asList(args));
        CommandLine cl = Cli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(all.toArray(String[]::new));
        return new Result(code, out.toString(), err.toString());
    }

    /**
     * Runs {@code quiltfs ARGS} in a child JVM with the registry kind's environment, as a user's
     * shell would: for commands that start processes of their own (the mount daemon inherits the
     * environment, not this JVM's system properties). Fails the test unless it exits 0.
     */
    String runChild(String... args) throws java.io.IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), io.quiltfs.cli.Main.class.getName(),
                "--home", home.toString()));
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(environment);
        Process p = pb.start();
        p.getOutputStream().close();
        var out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try (var in = p.getInputStream()) {
                return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                return "(unreadable: " + e + ")";
            }
        });
        if (!p.waitFor(180, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("quiltfs " + String.join(" ", args) + " did not finish in 180 s");
        }
        if (p.exitValue() != 0) {
            fail("quiltfs " + String.join(" ", args) + " exited " + p.exitValue() + ": " + out.join().strip());
        }
        return out.join();
    }

    /** Runs {@code quiltfs ARGS} and fails the test unless it exits 0; returns stdout. */
    String run(String... args) {
        Result r = exec(args);
        if (r.exit != 0) {
            fail("quiltfs " + String.join(" ", args) + " exited " + r.exit + ": " + r.stderr.strip());
        }
        return r.stdout;
    }

    /** Runs {@code quiltfs --json ARGS}; fails unless it exits 0; returns the JSON document. */
    JsonNode json(String... args) {
        String[] a = new String[args.length + 1];
        a[0] = "--json";
        System.arraycopy(args, 0, a, 1, args.length);
        String out = run(a);
        try {
            return Json.parse(out);
        } catch (IllegalArgumentException e) {
            fail("quiltfs --json " + String.join(" ", args) + " printed no JSON document: " + out);
            return null;
        }
    }


    /** A finished command. */
    record Result(int exit, String stdout, String stderr) {
    }
}
