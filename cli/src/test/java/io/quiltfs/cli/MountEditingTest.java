package io.quiltfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountEditingTest {
    @TempDir
    Path tmp;

    /**
     * A control file that fails mid-exchange (as when the mount's process is killed while it
     * commits: "Software caused connection abort") gets a line saying what happened and what to do.
     */
    @Test
    void aControlFileThatFailsIsExplained() throws Exception {
        Path mp = tmp.resolve("mnt");
        Files.createDirectories(mp.resolve(".quiltfs/ctl")); // any failure of the exchange
        CliException e = assertThrows(CliException.class, () -> MountEditing.send(mp, List.of("commit", "-m", "x")));
        assertEquals(ExitCodes.FAILURE, e.exitCode());
        assertTrue(e.getMessage().contains("the mount at " + mp + " did not answer `commit -m x`")
                && e.getMessage().contains("quiltfs status"), e.getMessage());
    }

    /** A mount point whose mount stopped (its process killed) is not called an invalid package name. */
    @Test
    void aFolderThatIsNoLongerAMountIsExplained() throws Exception {
        Path mp = Files.createDirectories(tmp.resolve("mnt"));
        var r = WorkflowCommandsTest.run("--home", tmp.resolve("home").toString(), "commit", mp.toString(), "-m", "x");
        assertEquals(ExitCodes.NOT_FOUND, r.code(), r.err());
        assertTrue(r.err().contains(mp + " is not a quiltfs mount now"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
