package io.quiltfs.store.testing;

import io.quiltfs.store.registry.S3Settings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A real S3 server for tests: S3Proxy (filesystem backend, SigV4 signatures enforced) in a child
 * JVM on 127.0.0.1 and a free port, so its bundled libraries never meet the SDK's on one
 * classpath. {@link #shared()} starts one per test JVM, stopped when the JVM exits; buckets are
 * folders under its base directory, so each test takes a fresh one with {@link #newBucket()}.
 */
public final class S3ProxyServer implements AutoCloseable {
    public static final String ACCESS_KEY = "quiltfs-test-key";
    public static final String SECRET_KEY = "quiltfs-test-secret-0123456789";
    private static final AtomicInteger BUCKETS = new AtomicInteger();
    private static S3ProxyServer shared;

    private final Path dir;
    private final Path data;
    private final int port;
    private final Process process;

    private S3ProxyServer(Path dir, int port, Process process) {
        this.dir = dir;
        this.data = dir.resolve("data");
        this.port = port;
        this.process = process;
    }

    /** The server of this test JVM; the SDK's system properties point every client at it. */
    public static synchronized S3ProxyServer shared() {
        if (shared == null) {
            try {
                shared = start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            S3ProxyServer s = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(s::close, "s3proxy-stop"));
            System.setProperty("aws.accessKeyId", ACCESS_KEY);
            System.setProperty("aws.secretAccessKey", SECRET_KEY);
            System.setProperty("aws.region", "us-east-1");
            System.setProperty("aws.endpointUrl", s.endpoint());
        }
        return shared;
    }

    /** Where the S3Proxy jar is: {@code -Dquiltfs.s3proxy.jar}, else the local Maven repository. */
    static Path jar() {
        String p = System.getProperty("quiltfs.s3proxy.jar");
        Path jar = p != null ? Paths.get(p) : Paths.get(System.getProperty("user.home"),
                ".m2/repository/org/gaul/s3proxy/4.1.0/s3proxy-4.1.0-jar-with-dependencies.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("S3Proxy is not at " + jar
                    + " (build the store module first: it resolves org.gaul:s3proxy into the local repository)");
        }
        return jar;
    }

    /** Starts a new server (stop it with {@link #close()}). */
    public static S3ProxyServer start() throws IOException {
        Path dir = Files.createTempDirectory("s3proxy");
        Files.createDirectories(dir.resolve("data"));
        IOException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            int port = freePort();
            Path conf = dir.resolve("s3proxy.conf");
            Files.writeString(conf, String.join("\n",
                    "s3proxy.endpoint=http://127.0.0.1:" + port,
                    "s3proxy.authorization=aws-v2-or-v4",
                    "s3proxy.identity=" + ACCESS_KEY,
                    "s3proxy.credential=" + SECRET_KEY,
                    "jclouds.provider=filesystem-nio2",
                    "jclouds.identity=unused",
                    "jclouds.credential=unused",
                    "jclouds.filesystem.basedir=" + dir.resolve("data"),
                    ""), StandardCharsets.UTF_8);
            Path java = Paths.get(System.getProperty("java.home"), "bin", "java");
            Process proc = new ProcessBuilder(java.toString(), "-Xmx512m", "-XX:+UseParallelGC",
                    "-jar", jar().toString(), "--properties", conf.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("s3proxy.log").toFile())
                    .start();
            S3ProxyServer s = new S3ProxyServer(dir, port, proc);
            try {
                s.awaitReady();
                return s;
            } catch (IOException e) {
                last = e;
                proc.destroyForcibly();
            }
        }
        throw last;
    }

    private static int freePort() throws IOException {
        try (ServerSocket ss = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return ss.getLocalPort();
        }
    }

    private void awaitReady() throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("S3Proxy exited with " + process.exitValue() + ": " + log());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while S3Proxy starts", e);
                }
            }
        }
        throw new IOException("S3Proxy did not listen on port " + port + " within 60 s: " + log());
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("s3proxy.log"));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    public int port() {
        return port;
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** Settings that reach this server (credentials come from the SDK's system properties). */
    public S3Settings settings() {
        return new S3Settings(endpoint(), "us-east-1");
    }

    /** The environment a child process (the CLI) needs to reach this server. */
    public Map<String, String> environment() {
        return Map.of("AWS_ACCESS_KEY_ID", ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", SECRET_KEY,
                "AWS_REGION", "us-east-1", "AWS_ENDPOINT_URL", endpoint(),
                "AWS_CONFIG_FILE", "/nonexistent/quiltfs-test-aws-config",
                "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/quiltfs-test-aws-credentials");
    }

    /** A new, empty bucket (a folder of the filesystem backend). */
    public String newBucket() throws IOException {
        String name = "qf-" + ProcessHandle.current().pid() + "-" + BUCKETS.incrementAndGet();
        Files.createDirectories(data.resolve(name));
        return name;
    }

    /** The file that holds an object (the filesystem backend stores objects as plain files). */
    public Path objectFile(String bucket, String key) {
        return data.resolve(bucket).resolve(key);
    }

    /** Every object key of a bucket, sorted (read from the backend's folder, not through S3). */
    public java.util.List<String> keys(String bucket) throws IOException {
        Path root = data.resolve(bucket);
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted().toList();
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp folder left behind is harmless
        }
    }
}
