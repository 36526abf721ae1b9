package io.quiltfs.nativetests.interop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;

/** Reading the workflow verbs' results (issue 3's {@code status --json}) in the interop tests. */
final class Workflow {
    private Workflow() {
    }

    /**
     * The package state that {@code status ns/name --json} reports (UpToDate, Ahead, Behind,
     * Diverged, Local): the first {@code state} field of the document.
     */
    static String state(Quiltfs quiltfs, String pkg) {
        JsonNode st = quiltfs.json("status", pkg);
        String s = Agreement.find(st, "state");
        assertNotNull(s, "`quiltfs status " + pkg + " --json` has no \"state\": " + st);
        return s;
    }

    static void assertState(Quiltfs quiltfs, String pkg, String expected) {
        assertEquals(expected.toLowerCase(java.util.Locale.ROOT),
                state(quiltfs, pkg).replace("_", "").replace("-", "").toLowerCase(java.util.Locale.ROOT),
                "state of " + pkg + " in `quiltfs status`");
    }
}
