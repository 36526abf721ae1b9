package io.quiltfs.nativetests.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quiltfs.store.testing.TestRegistries;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** quilt3 publishes a package; quiltfs mounts it and ordinary file reads see quilt3's bytes. */
class MountInteropTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "{0}")
    @MethodSource("io.quiltfs.store.testing.TestRegistries#kinds")
    void quiltfsMountsWhatQuilt3Published(TestRegistries.Kind kind) throws Exception {
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/fuse")), "no /dev/fuse on this machine");
        Map<String, Path> files = Fixture.write(tmp.resolve("src"));
        String reg = kind.newRegistry(tmp);
        Quilt3 quilt3 = new Quilt3(tmp, kind);
        quilt3.build(reg, Fixture.PACKAGE, tmp.resolve("src"), new Quilt3.Build().message("to mount")
                .meta(Fixture.PACKAGE_META).fileMeta(Fixture.FILE_META));

        Quiltfs quiltfs = new Quiltfs(tmp.resolve("home"), kind);
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        // A child process, as from a shell: the daemon it starts inherits the S3 settings.
        quiltfs.runChild("mount", Fixture.PACKAGE, mnt.toString(), "--registry", reg);
        try {
            Agreement.sameFiles(mnt, files);
            assertEquals(Fixture.BIG_SIZE, Files.size(mnt.resolve(Fixture.BIG)));
        } finally {
            Quiltfs.Result r = quiltfs.exec("unmount", mnt.toString());
            if (r.exit() != 0) {
                // Never leave a mount behind, whatever the unmount command said.
                new ProcessBuilder("fusermount", "-u", "-z", mnt.toString()).inheritIO().start()
                        .waitFor(30, TimeUnit.SECONDS);
            }
        }
    }
}
