package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.testing.ChildJvm;
import io.quiltfs.store.testing.S3ProxyServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI in a child process with an environment of its own, as a user runs it: S3 settings from
 * the environment and the AWS profile files, and what {@code --debug} prints.
 */
class S3EnvironmentCliTest {
    static final String TOKEN = "QuiltfsTestSessionToken7f3a9c";

    @TempDir
    Path tmp;

    record Run(int code, String output) {
    }

    /** Runs the CLI with exactly {@code env} (plus PATH), merging stdout and stderr. */
    Run run(List<String> jvmOptions, Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> all = new ArrayList<>(List.of("--home", tmp.resolve("home").toString()));
        all.addAll(List.of(args));
        ProcessBuilder pb = ChildJvm.builder(jvmOptions, Main.class, all.toArray(String[]::new));
        pb.environment().clear();
        pb.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        pb.environment().put("HOME", tmp.resolve("user").toString()); // no ~/.aws of the person running the tests
        pb.environment().put("AWS_EC2_METADATA_DISABLED", "true");
        pb.environment().putAll(env);
        Path out = tmp.resolve("out-" + System.nanoTime());
        pb.redirectOutput(out.toFile());
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the CLI did not finish within 120 s: " + Files.readString(out));
        }
        return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    }

    static void assertNoCredentials(String output) {
        assertFalse(output.contains(TOKEN), "the session token is printed:\n" + output);
        assertFalse(output.contains(S3ProxyServer.SECRET_KEY), "the secret key is printed:\n" + output);
        assertFalse(output.contains("Signature="), "a request signature is printed:\n" + output);
        assertFalse(output.toLowerCase(java.util.Locale.ROOT).contains("authorization:"),
                "an Authorization header is printed:\n" + output);
    }

    @Test
    void debugLogsNoCredentialsInTheCliOrTheMountDaemon() throws Exception {
        S3ProxyServer server = S3ProxyServer.shared();
        String bucket = server.newBucket();
        Map<String, String> env = server.environment();
        Map<String, String> withToken = new java.util.HashMap<>(env);
        withToken.put("AWS_SESSION_TOKEN", TOKEN);

        // Requests of every kind: a push (PUTs, a HEAD, listings), then a read.
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "hello\n");
        Run build = run(List.of(), env, "--debug", "build", "team/pkg", src.toString(), "-r", "s3://" + bucket, "-m", "m");
        assertEquals(0, build.code(), build.output());
        assertTrue(build.output().contains("[DEBUG]"), "--debug logs at debug:\n" + build.output());
        assertNoCredentials(build.output());

        // S3Proxy refuses requests with a session token (501), but only once they were signed,
        // sent, and would have been logged.
        Run token = run(List.of(), withToken, "--debug", "browse", "s3://" + bucket);
        assertTrue(token.output().contains("[DEBUG]"), token.output());
        assertNoCredentials(token.output());

        // The mount daemon logs (to a file) with these options; it has no --debug of its own.
        Run daemon = run(MountCommand.daemonLogOptions(true), withToken, "browse", "s3://" + bucket, "team/pkg");
        assertTrue(daemon.output().contains("DEBUG"), daemon.output());
        assertNoCredentials(daemon.output());
    }
}
