package io.quiltfs.fs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The rule for starting workers (the loop itself needs a real mount: native-tests). */
class SessionLoopTest {
    @Test
    void readsWaitingForFetchesLeaveRoomForOtherRequests() {
        int cap = SessionLoop.MAX_WORKERS;
        // Every worker waits in a READ (ends of cold files): an ls still gets a new worker.
        assertTrue(SessionLoop.mayStart(cap, cap));
        assertTrue(SessionLoop.mayStart(3 * cap, 2 * cap + 1));
        // Other requests alone keep the cap.
        assertFalse(SessionLoop.mayStart(cap, 0));
        assertFalse(SessionLoop.mayStart(2 * cap, cap));
        // And there is a ceiling, however many reads wait.
        assertFalse(SessionLoop.mayStart(SessionLoop.MAX_THREADS, SessionLoop.MAX_THREADS));
    }

    /** libfuse sends a name to drop with its NUL (namelen + 1 bytes): the array passed holds it. */
    @Test
    void aNameToDropEndsWithItsNul() {
        byte[] name = "caf\u00e9.txt".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] passed = SessionLoop.nulTerminated(name);
        assertEquals(name.length + 1, passed.length);
        assertEquals(0, passed[name.length]);
        assertArrayEquals(name, java.util.Arrays.copyOf(passed, name.length));
    }
}
