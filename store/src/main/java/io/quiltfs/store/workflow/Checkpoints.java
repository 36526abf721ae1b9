package io.quiltfs.store.workflow;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;

/**
 * Named points inside commit, push, pull and install where a test may stop the process to
 * check that a kill there loses nothing. Inert unless {@code QUILTFS_TEST_PAUSE_AT} names the
 * point: then the process writes the name to {@code QUILTFS_TEST_PAUSE_FILE} and waits to be
 * killed, or, when {@code QUILTFS_TEST_RESUME_FILE} is set too, until that file exists (a test
 * changing something at that point, e.g. mounting, then letting the process go on).
 */
public final class Checkpoints {
    private static final String AT = System.getenv("QUILTFS_TEST_PAUSE_AT");

    private Checkpoints() {
    }

    /** Tests in this package: called with every point reached, on the thread that reaches it. */
    static volatile java.util.function.Consumer<String> hook;

    public static void reach(String name) {
        java.util.function.Consumer<String> h = hook;
        if (h != null) {
            h.accept(name);
        }
        if (AT == null || !AT.equals(name)) {
            return;
        }
        String f = System.getenv("QUILTFS_TEST_PAUSE_FILE");
        try {
            if (f != null) {
                Files.write(Paths.get(f), name.getBytes(StandardCharsets.UTF_8));
            }
            String resume = System.getenv("QUILTFS_TEST_RESUME_FILE");
            if (resume == null) {
                Thread.sleep(Long.MAX_VALUE);
            }
            while (!Files.exists(Paths.get(resume))) {
                Thread.sleep(20);
            }
        } catch (IOException | InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
