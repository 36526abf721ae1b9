package io.quiltfs.store.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.quiltfs.store.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which recorded multipart uploads count as left by a process that is gone. */
class UploadJournalTest {
    @TempDir
    Path dir;

    @Test
    void onlyUploadsOfProcessesCertainlyGoneAreOrphans() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/sys/kernel/random/boot_id")), "Linux only");
        UploadJournal journal = new UploadJournal(dir);
        Path mine = journal.begin("big.bin", "u-mine");
        assertNotNull(mine);
        var me = (com.fasterxml.jackson.databind.node.ObjectNode) Json.parse(Files.readString(mine));
        assertEquals(List.of(), journal.orphans(), "this process runs");

        // A process that ended: its pid no longer runs (or runs another program, started later).
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        write("dead", me.deepCopy().put("upload_id", "u-dead").put("pid", p.pid()));
        write("reused", me.deepCopy().put("upload_id", "u-reused").put("start", "1"));
        write("rebooted", me.deepCopy().put("upload_id", "u-rebooted").put("boot", "another-boot"));
        // What cannot be judged here is left alone.
        write("elsewhere", me.deepCopy().put("upload_id", "u-elsewhere").put("host", "another-host")
                .put("pid", p.pid()));
        write("container", me.deepCopy().put("upload_id", "u-container").put("pid_namespace", "pid:[1]")
                .put("pid", p.pid()));
        Files.writeString(dir.resolve("garbage.json"), "{not json");

        List<String> orphans = journal.orphans().stream().map(UploadJournal.Orphan::uploadId).sorted().toList();
        assertEquals(List.of("u-dead", "u-rebooted", "u-reused"), orphans);
        assertFalse(Files.exists(dir.resolve("garbage.json")), "an unreadable record is dropped");
        journal.end(mine);
        assertFalse(Files.exists(mine));
    }

    private void write(String name, com.fasterxml.jackson.databind.node.ObjectNode record) throws IOException {
        Files.writeString(dir.resolve(name + ".json"), record.toString());
    }
}
