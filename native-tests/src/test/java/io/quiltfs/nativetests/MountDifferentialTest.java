package io.quiltfs.nativetests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.json.Json;
import java.nio.file.Path;
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
        buildPackage(300_000, SEED);
        Path ref = f.scratch.resolve("ref");
        Tool.run("cp", "-r", f.src.toString(), ref.toString()).ok();
        mount();

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
        assertTrue(!un.out().contains("kept the working area"), un.out());
        cli("mount", "test/mounted", mnt.toString(), "-r", f.uri).ok();
        assertSame(ref, "remounted at the last commit");
    }

    void assertSame(Path ref, String when) throws Exception {
        Tool.Result r = Tool.run("python3", driver().toString(), "compare", mnt.toString(), ref.toString());
        assertEquals(0, r.exit(), when + ":\n" + r.out() + r.err());
    }
}
