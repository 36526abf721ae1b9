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

    /** A config file, a credentials file, and nothing else: as the aws CLI documents it. */
    @Test
    void theProfileGivesEndpointRegionAndCredentials() throws Exception {
        S3ProxyServer server = S3ProxyServer.shared();
        String bucket = server.newBucket();
        Path config = tmp.resolve("aws-config");
        // A host name, not an IP: the SDK would address the bucket as qf-....localhost unless
        // told to go by path, as quiltfs does for every endpoint it knows of.
        Files.writeString(config, "[profile s3proxy]\nregion = eu-west-1\nendpoint_url = http://localhost:"
                + server.port() + "\n");
        Path credentials = tmp.resolve("aws-credentials");
        Files.writeString(credentials, "[s3proxy]\naws_access_key_id = " + S3ProxyServer.ACCESS_KEY
                + "\naws_secret_access_key = " + S3ProxyServer.SECRET_KEY + "\n");
        Map<String, String> env = Map.of("AWS_CONFIG_FILE", config.toString(),
                "AWS_SHARED_CREDENTIALS_FILE", credentials.toString(), "AWS_PROFILE", "s3proxy");

        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a.txt"), "hello\n");
        Run build = run(List.of(), env, "build", "team/pkg", src.toString(), "-r", "s3://" + bucket, "-m", "m");
        assertEquals(0, build.code(), build.output());
        Run browse = run(List.of(), env, "browse", "s3://" + bucket);
        assertEquals(0, browse.code(), browse.output());
        assertEquals("team/pkg", browse.output().strip());

        // The endpoint from the environment beats the profile's, --endpoint beats both, and the
        // S3 one beats the global one: each run reaches the server only through the winner.
        String closed = "http://127.0.0.1:" + closedPort();
        Map<String, String> envs = new java.util.HashMap<>(env);
        envs.put("AWS_ENDPOINT_URL", closed);
        Run global = run(List.of(), envs, "browse", "s3://" + bucket);
        assertEquals(ExitCodes.FAILURE, global.code(), global.output());
        assertTrue(global.output().contains("cannot reach S3 at " + closed), global.output());
        envs.put("AWS_ENDPOINT_URL_S3", server.endpoint());
        Run s3 = run(List.of(), envs, "browse", "s3://" + bucket);
        assertEquals(0, s3.code(), s3.output());
        envs.put("AWS_ENDPOINT_URL_S3", closed);
        Run option = run(List.of(), envs, "--endpoint", server.endpoint(), "browse", "s3://" + bucket);
        assertEquals(0, option.code(), option.output());
        assertEquals("team/pkg", option.output().strip());
    }

    @Test
    void noCredentialsIsOneClearError() throws Exception {
        S3ProxyServer server = S3ProxyServer.shared();
        String bucket = server.newBucket();
        Run r = run(List.of(), Map.of("AWS_ENDPOINT_URL", server.endpoint()), "browse", "s3://" + bucket);
        assertEquals(ExitCodes.FAILURE, r.code(), r.output());
        assertTrue(r.output().startsWith("quiltfs: error: no AWS credentials for s3://" + bucket + "/"), r.output());
        assertEquals(1, r.output().strip().lines().count(), r.output());
    }

    static int closedPort() throws IOException {
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0)) {
            return ss.getLocalPort();
        }
    }
}
