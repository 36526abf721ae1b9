package io.quiltfs.nativetests.interop;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * quilt3, the reference client, as a test peer: runs {@code quilt3_driver.py} with the project's
 * pinned quilt3 ({@code .venv/}, made by {@code scripts/setup}) in an isolated environment and
 * returns the one JSON document each driver command prints.
 */
final class Quilt3 {
    private static final long TIMEOUT_SECONDS = 300;

    private final Path python;
    private final Path driver;
    private final Map<String, String> env;

    /**
     * A peer whose quilt3 data, cache and config live under {@code scratch}, reaching registries
     * of {@code kind} through the standard AWS settings.
     */
    Quilt3(Path scratch, TestRegistries.Kind kind) throws IOException {
        Path root = projectRoot();
        this.python = root.resolve(".venv/bin/python");
        this.driver = root.resolve("native-tests/src/test/python/quilt3_driver.py");
        if (!Files.isExecutable(python)) {
            fail("quilt3 is not installed: " + python + " is missing (run ./scripts/setup at " + root + ")");
        }
        Path home = Files.createDirectories(scratch.resolve("quilt3-home"));
        env = new java.util.HashMap<>();
        // quilt3 keeps its config, local registry and object cache under the XDG folders
        // (platformdirs); keep them per test so that nothing leaks between tests or into ~.
        env.put("HOME", home.toString());
        env.put("XDG_DATA_HOME", home.resolve("data").toString());
        env.put("XDG_CACHE_HOME", home.resolve("cache").toString());
        env.put("XDG_CONFIG_HOME", home.resolve("config").toString());
        env.put("QUILT_DISABLE_USAGE_METRICS", "true");
        env.put("QUILT_MINIMIZE_STDOUT", "true");
        env.put("PYTHONIOENCODING", "utf-8");
        env.put("PYTHONDONTWRITEBYTECODE", "1");
        // AWS: only what the registry kind says; never the machine's profiles, never the
        // instance metadata service (it would be a network call).
        env.putAll(kind.environment());
        env.put("AWS_SHARED_CREDENTIALS_FILE", home.resolve("aws-credentials-none").toString());
        env.put("AWS_EC2_METADATA_DISABLED", "true");
        // Path-style addressing, as any boto3 user sets it for an S3-compatible server.
        Path awsConfig = home.resolve("aws-config");
        Files.writeString(awsConfig, "[default]\nregion = " + env.getOrDefault("AWS_REGION", "us-east-1")
                + "\ns3 =\n    addressing_style = path\n");
        env.put("AWS_CONFIG_FILE", awsConfig.toString());
    }

    static Path projectRoot() {
        String p = System.getProperty("quiltfs.root");
        Path root = p != null ? Paths.get(p) : Paths.get("..");
        return root.toAbsolutePath().normalize();
    }

    /** Runs a driver command; fails the test with quilt3's message when it fails. */
    JsonNode run(String... args) throws IOException {
        Result r = exec(args);
        if (r.exit != 0) {
            fail("quilt3 " + String.join(" ", args) + " exited " + r.exit + ": " + r.stderr.strip());
        }
        try {
            return Json.parse(r.stdout);
        } catch (IllegalArgumentException e) {
            fail("quilt3 " + args[0] + " printed no JSON: " + r.stdout + "\n" + r.stderr);
            return null;
        }
    }

    /** Runs a driver command and returns its exit code and output, whatever they are. */
    Result exec(String... args) throws IOException {
        boolean s3 = Arrays.stream(args).anyMatch(a -> a.startsWith("s3://"));
        if (s3 && env.get("AWS_ENDPOINT_URL") == null && env.get("AWS_ENDPOINT_URL_S3") == null) {
            // Without an endpoint quilt3 would go to AWS itself: tests never leave loopback.
            fail("the S3 registry kind gives quilt3 no endpoint: TestRegistries.Kind#environment() must "
                    + "return AWS_ENDPOINT_URL and the credentials of the test server");
        }
        List<String> cmd = new ArrayList<>(List.of(python.toString(), driver.toString()));
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        Process proc = pb.start();
        proc.getOutputStream().close();
        CompletableFuture<String> out = readAsync(proc.getInputStream());
        CompletableFuture<String> err = readAsync(proc.getErrorStream());
        try {
            if (!proc.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                proc.waitFor(10, TimeUnit.SECONDS);
                fail("quilt3 " + String.join(" ", args) + " did not finish in " + TIMEOUT_SECONDS + " s");
            }
            return new Result(proc.exitValue(), out.join(), err.join());
        } catch (InterruptedException e) {
            proc.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while quilt3 ran", e);
        }
    }

    private static CompletableFuture<String> readAsync(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try (in) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(unreadable: " + e + ")";
            }
        });
    }

    // --- the driver's commands -----------------------------------------------------------

    /** Builds (local) or pushes (S3) a package made from {@code src}; returns its top hash. */
    String build(String registry, String pkg, Path src, Build options) throws IOException {
        return publish(registry, pkg, src, options).get("top_hash").asText();
    }

    /**
     * Builds (local) or pushes (S3) a package made from {@code src}; returns {@code top_hash} and
     * {@code view}: the published revision as {@link #browse} shows it.
     */
    JsonNode publish(String registry, String pkg, Path src, Build options) throws IOException {
        return run(buildArgs(registry, pkg, src, options));
    }

    /** The driver's {@code build} command line for {@code options}. */
    private static String[] buildArgs(String registry, String pkg, Path src, Build options) {
        List<String> a = new ArrayList<>(List.of("build", "--registry", registry, "--name", pkg,
                "--src", src.toString()));
        if (options.message != null) {
            a.addAll(List.of("--message", options.message));
        }
        if (options.meta != null) {
            a.addAll(List.of("--meta", options.meta));
        }
        if (options.fileMeta != null) {
            a.addAll(List.of("--file-meta", options.fileMeta));
        }
        if (options.dirMeta != null) {
            a.addAll(List.of("--dir-meta", options.dirMeta));
        }
        if (options.headerExtra != null) {
            a.addAll(List.of("--header-extra", options.headerExtra));
        }
        if (options.hashType != null) {
            a.addAll(List.of("--hash-type", options.hashType));
        }
        if (options.workflow != null) {
            a.addAll(List.of("--workflow", options.workflow));
        }
        return a.toArray(String[]::new);
    }

    /** Like {@link #publish}, returning how the driver ended (for what quilt3 refuses). */
    Result tryPublish(String registry, String pkg, Path src, Build options) throws IOException {
        return exec(buildArgs(registry, pkg, src, options));
    }

    /** The manifest as quilt3 sees it: top_hash, header, rows (walk order), dirs. */
    JsonNode browse(String registry, String pkg, String topHash) throws IOException {
        return topHash == null
                ? run("browse", "--registry", registry, "--name", pkg)
                : run("browse", "--registry", registry, "--name", pkg, "--top-hash", topHash);
    }

    /** Fetches every file into {@code dest} and verifies it with Package.verify. */
    JsonNode fetchVerify(String registry, String pkg, String topHash, Path dest) throws IOException {
        List<String> a = new ArrayList<>(List.of("fetch-verify", "--registry", registry, "--name", pkg,
                "--dest", dest.toString()));
        if (topHash != null) {
            a.addAll(List.of("--top-hash", topHash));
        }
        return run(a.toArray(String[]::new));
    }

    /** Publishes a revision on top of latest with files set ({@code key -> file}) or deleted. */
    JsonNode pushOnTop(String registry, String pkg, Map<String, Path> set, List<String> delete, String message)
            throws IOException {
        List<String> a = new ArrayList<>(List.of("push-on-top", "--registry", registry, "--name", pkg));
        set.forEach((k, p) -> a.addAll(List.of("--set", k + "=" + p)));
        for (String k : delete) {
            a.addAll(List.of("--delete", k));
        }
        if (message != null) {
            a.addAll(List.of("--message", message));
        }
        return run(a.toArray(String[]::new));
    }

    /** quilt3's listing: {@code packages} and {@code versions} (name -> [[pointer, top hash]]). */
    JsonNode list(String registry) throws IOException {
        return run("list", "--registry", registry);
    }

    /** Options of {@link #build}. */
    static final class Build {
        String message;
        String meta;
        String fileMeta;
        String dirMeta;
        String headerExtra;
        String hashType;
        /** A workflow id, "" for none, null for the registry's default. */
        String workflow;

        Build workflow(String id) {
            workflow = id;
            return this;
        }

        Build message(String m) {
            message = m;
            return this;
        }

        Build meta(String json) {
            meta = json;
            return this;
        }

        Build fileMeta(String json) {
            fileMeta = json;
            return this;
        }

        Build dirMeta(String json) {
            dirMeta = json;
            return this;
        }

        Build headerExtra(String json) {
            headerExtra = json;
            return this;
        }

        Build hashType(String t) {
            hashType = t;
            return this;
        }
    }

    /** A finished driver run. */
    record Result(int exit, String stdout, String stderr) {
    }
}
