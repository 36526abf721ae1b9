package io.quiltfs.nativetests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quiltfs.fs.fuse.FuseMount;
import io.quiltfs.store.state.MountTable;
import io.quiltfs.store.testing.TestRegistries;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A running mount outlives a rebuild of the jars it was started from, as the launcher rebuilds
 * them (`./quiltfs` after a `git pull`): the launcher moves the old build aside before building,
 * and the daemon opened every jar of its class path when it started, so classes it loads later
 * (writing, committing) still come from the build it started with.
 */
class RebuildUnderMountTest {
    @Test
    void aMountKeepsWorkingWhenItsJarsAreReplaced() throws Exception {
        Path built = Path.of(System.getProperty("quiltfs.root", ".")).resolve("cli/target");
        Assumptions.assumeTrue(Files.isRegularFile(built.resolve("quiltfs.jar")) && Files.isDirectory(built.resolve("lib")),
                "the CLI is not packaged (run `mvn verify`, which packages it before these tests)");
        try (Fixture f = new Fixture(TestRegistries.LOCAL)) {
            f.write("hello.txt", "hello\n");
            f.build();
            // A workflow config: the commit below reads the registry's config, a schema (quiltfs's
            // own resource and the schema library's) and a Python pattern, after the rebuild.
            Path wf = Files.createDirectories(io.quiltfs.store.registry.PhysicalKey.parse(f.uri).filePath()
                    .resolve(".quilt/workflows"));
            Files.writeString(wf.resolve("meta.json"),
                    "{\"type\": \"object\", \"properties\": {\"a\": {\"pattern\": \"^(?P<x>[a-z]+)$\"}}}");
            Files.writeString(wf.resolve("config.yml"), "version: \"1\"\ndefault_workflow: w\nworkflows:\n  w:\n"
                    + "    name: W\n    metadata_schema: meta\nschemas:\n  meta:\n    url: " + f.uri
                    + "/.quilt/workflows/meta.json\n");
            Path install = f.scratch.resolve("install");
            copyTree(built.resolve("lib"), install.resolve("lib"));
            Files.copy(built.resolve("quiltfs.jar"), install.resolve("quiltfs.jar"));
            Path mnt = Files.createDirectories(f.scratch.resolve("mnt"));
            f.mnt = mnt;
            try {
                assertEquals(0, run(install, f.home, "mount", Fixture.PKG.toString(), mnt.toString(), "--registry", f.uri));
                assertEquals("hello\n", Tool.run("cat", mnt.resolve("hello.txt").toString()).ok().out());

                // What the launcher does when sources changed: the old build aside, a new one in
                // its place (here: files that are not jars at all), the old one deleted.
                Path previous = f.scratch.resolve("install.previous");
                Files.move(install, previous);
                Files.createDirectories(install.resolve("lib"));
                try (Stream<Path> s = Files.list(previous.resolve("lib"))) {
                    for (Path j : (Iterable<Path>) s::iterator) {
                        Files.writeString(install.resolve("lib").resolve(j.getFileName()), "not a jar");
                    }
                }
                Files.writeString(install.resolve("quiltfs.jar"), "not a jar");
                Fixture.deleteTree(previous);

                // Work that loads classes the daemon had not needed yet.
                Tool.sh("echo 'written after the rebuild' > " + MountToolsTest.q(mnt.resolve("new.txt"))).ok();
                assertEquals("written after the rebuild\n", Tool.run("cat", mnt.resolve("new.txt").toString()).ok().out());
                Tool.sh("echo 'commit -m after-the-rebuild' > " + MountToolsTest.q(mnt.resolve(".quiltfs/ctl"))).ok();
                String reply = Tool.run("cat", mnt.resolve(".quiltfs/ctl").toString()).ok().out();
                assertTrue(reply.contains("committed test/mounted@"), reply);
                String status = Tool.run("cat", mnt.resolve(".quiltfs/status").toString()).ok().out();
                assertTrue(status.contains("\"Ahead\""), status);
            } finally {
                if (MountTable.at(mnt) != null) {
                    FuseMount.unmount(mnt, true);
                }
            }
            assertNull(MountTable.at(mnt));
            String log;
            try (Stream<Path> s = Files.list(f.home.resolve("logs"))) {
                log = Files.readString(s.findFirst().orElseThrow());
            }
            assertFalse(log.contains("NoClassDefFoundError") || log.contains("ZipException"), log);
        }
    }

    private static int run(Path install, Path home, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", install.resolve("quiltfs.jar").toString(), "io.quiltfs.cli.Main", "--home", home.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(
                ProcessBuilder.Redirect.DISCARD).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "quiltfs " + String.join(" ", args) + " timed out");
        return p.exitValue();
    }

    private static void copyTree(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
    }
}
