package io.quiltfs.store.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {
    @TempDir
    Path dir;

    /** A process id that no process has now: one of a process that has exited. */
    static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }

    @Test
    void aWriteSweepsWhatKilledWritersLeftInItsFolder() throws Exception {
        long dead = deadPid();
        Path killed = Files.writeString(dir.resolve(".data.json.p" + dead + "-17.tmp"), "half");
        Path mine = Files.writeString(dir.resolve(".data.json.p" + ProcessHandle.current().pid() + "-18.tmp"), "x");
        Path alive = Files.writeString(dir.resolve(".other.p1-19.tmp"), "init's, running");
        Path oldUnnamed = Files.writeString(dir.resolve(".data.json.4242.tmp"), "old");
        Files.setLastModifiedTime(oldUnnamed, FileTime.from(Instant.now().minus(2, ChronoUnit.DAYS)));
        Path newUnnamed = Files.writeString(dir.resolve(".data.json.4343.tmp"), "recent");
        Path notOurs = Files.writeString(dir.resolve("notes.p" + dead + "-1.tmp"), "a user's file");

        AtomicFile.write(dir.resolve("data.json"), "{}".getBytes());

        assertEquals("{}", Files.readString(dir.resolve("data.json")));
        assertFalse(Files.exists(killed), "left by a process that is gone");
        assertFalse(Files.exists(oldUnnamed), "unnamed and a day old");
        assertTrue(Files.exists(mine) && Files.exists(alive) && Files.exists(newUnnamed) && Files.exists(notOurs));
        try (var s = Files.list(dir)) {
            assertEquals(5, s.count(), "the write itself left no temporary file");
        }
    }

    @Test
    void aStagedWriteSweepsToo() throws Exception {
        Path killed = Files.writeString(dir.resolve(".m.p" + deadPid() + "-5.tmp"), "half");
        AtomicFile.stage(dir.resolve("m"), "new".getBytes()).commit();
        assertEquals("new", Files.readString(dir.resolve("m")));
        assertFalse(Files.exists(killed));
    }

    /**
     * A home's state (lineage, caches, journals) stays its owner's, whatever the umask; a
     * write with a temporary folder of its own (a registry's) gets what the umask gives any new file.
     */
    @Test
    void homeStateIsOwnerOnlyAndRegistryFilesGetTheUmasks() throws Exception {
        var owner = java.nio.file.attribute.PosixFilePermissions.fromString("rw-------");
        var umask = Files.getPosixFilePermissions(Files.createFile(dir.resolve("probe")));
        org.junit.jupiter.api.Assumptions.assumeFalse(umask.equals(owner), "the umask gives owner-only files");
        AtomicFile.write(dir.resolve("state.json"), new byte[] {1});
        AtomicFile.write(dir.resolve("journal"), out -> out.write(2));
        assertTrue(AtomicFile.createNew(dir.resolve("new"), new byte[] {3}));
        for (String f : java.util.List.of("state.json", "journal", "new")) {
            assertEquals(owner, Files.getPosixFilePermissions(dir.resolve(f)), f);
        }
        Path tmpDir = dir.resolve("tmp");
        AtomicFile.write(dir.resolve("manifest"), tmpDir, out -> out.write(4));
        assertTrue(AtomicFile.createNew(dir.resolve("pointer"), tmpDir, new byte[] {5}));
        for (String f : java.util.List.of("manifest", "pointer")) {
            assertEquals(umask, Files.getPosixFilePermissions(dir.resolve(f)), f);
        }
    }
}
