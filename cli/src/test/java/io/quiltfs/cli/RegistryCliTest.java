package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.store.testing.S3ProxyServer;
import io.quiltfs.store.testing.TestRegistries;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** `build` and `browse` end to end, against every registry kind (a local folder and S3). */
class RegistryCliTest {
    @TempDir
    Path tmp;

    /** One run of the command line: exit code, stdout, stderr. */
    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Cli.commandLine(args);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @ParameterizedTest
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void buildThenBrowse(TestRegistries.Kind kind) throws IOException {
        String registry = kind.newRegistry(tmp);
        Path src = Files.createDirectories(tmp.resolve("src/sub"));
        Files.writeString(src.resolve("b.txt"), "world\n");
        Files.writeString(tmp.resolve("src/a.txt"), "hello\n");
        String home = tmp.resolve("home").toString();

        Run b = run("--home", home, "build", "team/pkg", tmp.resolve("src").toString(), "-r", registry, "-m", "first");
        assertEquals(0, b.code(), b.err());
        String top = b.out().strip();
        assertTrue(top.matches("[0-9a-f]{64}"), b.out());

        Run list = run("--home", home, "browse", registry);
        assertEquals(0, list.code(), list.err());
        assertEquals("team/pkg", list.out().strip());

        Files.writeString(tmp.resolve("src/a.txt"), "hello again\n");
        Run b2 = run("--home", home, "build", "team/pkg", tmp.resolve("src").toString(), "-r", registry, "-m", "second");
        assertEquals(0, b2.code(), b2.err());
        String top2 = b2.out().strip();

        Run revs = run("--home", home, "browse", registry, "team/pkg");
        assertEquals(0, revs.code(), revs.err());
        assertTrue(revs.out().contains(top2 + "  second [latest]"), revs.out());
        assertTrue(revs.out().contains(top + "  first"), revs.out());

        Run json = run("--home", home, "--json", "browse", registry);
        assertTrue(json.out().replaceAll("\\s", "").contains("\"packages\":[\"team/pkg\"]"), json.out());

        Run missing = run("--home", home, "browse", registry, "team/nope");
        assertEquals(ExitCodes.NOT_FOUND, missing.code(), missing.err());
    }

    /** S3 keys take names of up to 1024 bytes; a local folder 255: installing one is one clear line. */
    @Test
    void aKeyNameTooLongForTheDiskIsSaidSo() throws IOException {
        Path obj = Files.writeString(tmp.resolve("obj"), "hello world\n");
        String key = "d/" + "\u00e9".repeat(150);
        byte[] m = ("{\"version\":\"v0\",\"message\":\"m\"}\n{\"logical_key\":\"" + key + "\",\"physical_keys\":[\""
                + io.quiltfs.store.registry.PhysicalKey.ofFile(obj) + "\"],\"size\":12,\"hash\":{\"type\":"
                + "\"sha2-256-chunked\",\"value\":\"+D5La7o++sQfH/Vu6XrfdFRoD+53iSTLW6BjEdE2rRw=\"}}\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String top = io.quiltfs.store.manifest.ManifestReader.read(m, "test").topHash();
        var reg = new io.quiltfs.store.registry.LocalRegistry(tmp.resolve("reg"));
        reg.writeManifestBytes(top, m);
        reg.writePointer(io.quiltfs.store.registry.PackageName.parse("team/long"), "latest", top);
        Run r = run("--home", tmp.resolve("home").toString(), "install", "team/long", "-r", reg.uri(),
                "--dest", tmp.resolve("work").toString());
        assertEquals(ExitCodes.FAILURE, r.code(), r.err());
        // Was the JDK's "TMP -> PATH: File name too long" and "run install again to finish it".
        assertTrue(r.err().contains("is longer than the file system allows")
                && r.err().contains("no file here can have that name"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void s3ErrorsAreOneLineWithAnExitCode() throws IOException {
        S3ProxyServer server = S3ProxyServer.shared();
        String home = tmp.resolve("home").toString();
        Run noBucket = run("--home", home, "browse", "s3://no-such-bucket-for-quiltfs");
        assertEquals(ExitCodes.NOT_FOUND, noBucket.code());
        assertEquals("quiltfs: error: no bucket 'no-such-bucket-for-quiltfs' at " + server.endpoint()
                + " (check the name, the endpoint and the region)", noBucket.err().strip());

        // The same where the first request is a HEAD (a full top hash is checked with one).
        Run noBucketHead = run("--home", home, "install", "team/pkg@" + "0".repeat(64), "-r",
                "s3://no-such-bucket-for-quiltfs");
        assertEquals(ExitCodes.NOT_FOUND, noBucketHead.code());
        assertEquals(noBucket.err(), noBucketHead.err());

        int closed;
        try (java.net.ServerSocket ss = new java.net.ServerSocket(0)) {
            closed = ss.getLocalPort();
        }
        Run down = run("--home", home, "--endpoint", "http://127.0.0.1:" + closed, "browse", "s3://" + server.newBucket());
        assertEquals(ExitCodes.FAILURE, down.code());
        assertTrue(down.err().startsWith("quiltfs: error: cannot reach S3 at http://127.0.0.1:" + closed), down.err());
        assertEquals(1, down.err().strip().lines().count(), down.err());
        assertFalse(down.err().contains(S3ProxyServer.SECRET_KEY));

        Run folder = run("--home", home, "browse", "s3://bucket/folder");
        assertEquals(ExitCodes.USAGE, folder.code(), folder.err());
    }
}
