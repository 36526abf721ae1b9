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
}
