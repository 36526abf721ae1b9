package io.quiltfs.nativetests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.fs.fuse.FuseMount;
import io.quiltfs.fs.fuse.MountTable;
import io.quiltfs.store.hash.FileHasher;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.manifest.Entry;
import io.quiltfs.store.manifest.Manifest;
import io.quiltfs.store.manifest.ManifestReader;
import io.quiltfs.store.state.Home;
import io.quiltfs.store.testing.TestRegistries;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The editable mount against a plain folder on the local disk: the same seeded random sequence
 * of ordinary operations (src/test/python/mount_diff.py) gets the same answers from both, but
 * for the differences SEMANTICS.md documents; each round then remounts (the journal must give
 * the same tree), commits (the revision must hold the folder's files, byte for byte) and
 * checks that status is clean. Short by default; {@code -Dquiltfs.diff.rounds=N
 * -Dquiltfs.diff.ops=N -Dquiltfs.diff.seed=N} run it longer or elsewhere.
 */
class MountDifferentialTest extends MountComparison {
    static final long SEED = Long.getLong("quiltfs.diff.seed", 20261122L);
    static final int ROUNDS = Integer.getInteger("quiltfs.diff.rounds", 2);
    static final int OPS = Integer.getInteger("quiltfs.diff.ops", 1200);

    @Test
    void theMountAnswersAsALocalFolderDoes() throws Exception {
        f = new Fixture(TestRegistries.LOCAL);
        f.write("README.md", "# a package\n");
        f.write("f0", "alpha\nbeta\n");
        f.write("d0/f1", "one\n");
        f.write("d0/sub/data.csv", "a,b\n1,2\n");
        f.write("d1/x y/f2.txt", "deep\n");
        f.write("x y/ünï.txt", "unicode\n");
        byte[] blob = new byte[300_000];
        new Random(SEED).nextBytes(blob);
        Files.write(f.src.resolve("d1/blob.bin"), blob);
        f.build();
        Path ref = f.scratch.resolve("ref");
        Tool.run("cp", "-r", f.src.toString(), ref.toString()).ok();
        mnt = Files.createDirectories(f.scratch.resolve("mnt"));
        cli("mount", "test/mounted@" + f.topHash, mnt.toString(), "-r", f.uri).ok();

        for (int round = 0; round < ROUNDS; round++) {
            long seed = SEED + round;
            Tool.Result r = Tool.run("python3", driver().toString(), "run", Long.toString(seed), Integer.toString(OPS),
                    mnt.toString(), ref.toString(), "1");
            assertEquals(0, r.exit(), "round " + round + " (-Dquiltfs.diff.seed=" + seed + "):\n" + r.out() + r.err());

            cli("unmount", mnt.toString()).ok();
            cli("mount", "test/mounted", mnt.toString(), "-r", f.uri).ok();
            assertSame(ref, "round " + round + ", remounted before the commit (the journal replayed)");

            String top;
            if (round % 2 == 0) {
                String res = Tool.sh("echo 'commit -m \"round " + round + "\"' > " + MountToolsTest.q(mnt)
                        + "/.quiltfs/ctl && cat " + MountToolsTest.q(mnt) + "/.quiltfs/ctl").ok().out();
                assertTrue(res.trim().endsWith("exit 0"), res);
                top = res.lines().findFirst().orElseThrow().trim();
            } else {
                top = cli("commit", mnt.toString(), "-m", "round " + round).ok().out().lines().findFirst()
                        .orElseThrow().trim();
            }
            assertRevisionHolds(top, ref, "round " + round);
            // A package records no modes: the committed files show the revision's rw-r--r--.
            Tool.run("chmod", "-R", "a-x+X", ref.toString()).ok();
            JsonNode st = Json.parse(cli("--json", "status", mnt.toString()).ok().out());
            assertEquals(0, st.path("added").size() + st.path("modified").size() + st.path("removed").size(),
                    "status is clean after the commit: " + st);
            assertSame(ref, "round " + round + ", after the commit");
        }
        Tool.Result un = cli("unmount", mnt.toString()).ok();
        assertTrue(!un.out().contains("kept uncommitted"), un.out());
        cli("mount", "test/mounted", mnt.toString(), "-r", f.uri).ok();
        assertSame(ref, "remounted at the last commit");
    }

    void assertSame(Path ref, String when) throws Exception {
        Tool.Result r = Tool.run("python3", driver().toString(), "compare", mnt.toString(), ref.toString());
        assertEquals(0, r.exit(), when + ":\n" + r.out() + r.err());
    }
}
