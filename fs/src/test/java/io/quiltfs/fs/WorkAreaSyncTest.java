package io.quiltfs.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fsync of a working copy syncs the folder of copies once per new name, and only then. */
class WorkAreaSyncTest {
    @TempDir
    Path tmp;

    @Test
    void aForcedCopyHasItsNameSyncedOnceAndAFrozenCopyAgainAfterItsNextWrite() throws Exception {
        WorkArea area = WorkArea.open(tmp.resolve("area"), top -> {
            throw new AssertionError("nothing to replay");
        });
        try {
            WorkArea.Content c = area.create("a.txt");
            c.write(0, ByteBuffer.wrap("one".getBytes(StandardCharsets.UTF_8)));
            c.force();
            assertEquals(1, area.folderSyncs(), "the new copy's name was synced");
            c.write(3, ByteBuffer.wrap("two".getBytes(StandardCharsets.UTF_8)));
            c.force();
            assertEquals(1, area.folderSyncs(), "no new name: the bytes and the journal only");
            area.freeze(c); // a commit's snapshot: the next write goes to a new copy, a new name
            c.write(0, ByteBuffer.wrap("ONE".getBytes(StandardCharsets.UTF_8)));
            c.force();
            assertEquals(2, area.folderSyncs(), "the thawed copy's name was synced");
            assertEquals(0, area.fullSyncs(), "bytes only: fdatasync");
            long journal = area.journalSyncs();
            c.force();
            assertEquals(journal, area.journalSyncs(), "nothing appended since: the journal is not forced again");
            // fdatasync does not write a change of the mtime alone: a set time needs a full fsync.
            c.setMtime(java.time.Instant.parse("2012-03-04T05:06:07Z"));
            c.force();
            assertEquals(1, area.fullSyncs(), "a set time is forced with the metadata");
            c.force();
            assertEquals(1, area.fullSyncs(), "once");
            area.close();
            WorkArea again = WorkArea.open(tmp.resolve("area"), top -> {
                throw new AssertionError("nothing moved");
            });
            try {
                WorkArea.Content back = (WorkArea.Content) again.node("a.txt");
                ByteBuffer b = ByteBuffer.allocate(16);
                back.read(0, b);
                assertEquals("ONEtwo", new String(b.array(), 0, b.position(), StandardCharsets.UTF_8));
            } finally {
                again.close();
            }
        } finally {
            area.close();
        }
    }
}
