package io.quiltfs.store.workflow;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;

/**
 * Named points inside commit, push, pull and install where a test may stop the process to
 * check that a kill there loses nothing. Inert unless {@code QUILTFS_TEST_PAUSE_AT} names the
 * point: then the process writes the name to {@code QUILTFS_TEST_PAUSE_FILE} and waits to be
 * killed.
 */
public final class Checkpoints {
    private static final String AT = System.getenv("QUILTFS_TEST_PAUSE_AT");

    private Checkpoints() {
    }

    public static void reach(String name) {
        if (AT == null || !AT.equals(name)) {
            return;
        }
        String f = System.getenv("QUILTFS_TEST_PAUSE_FILE");
        try {
            if (f != null) {
                Files.write(Paths.get(f), name.getBytes(StandardCharsets.UTF_8));
            }
            Thread.sleep(Long.MAX_VALUE);
        } catch (IOException | InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
