package io.quiltfs.store.state;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process and others of this machine, as the home's temporary files and records name them:
 * by pid, and the boot they run in.
 */
public final class LocalProcess {
    /** This process's pid. */
    public static final long PID = ProcessHandle.current().pid();

    private LocalProcess() {
    }

    /**
     * Whether the process {@code pid} of this machine no longer runs (never this one). A pid
     * reused since by another process reads as running: a file it names is kept, not lost.
     */
    public static boolean ended(long pid) {
        return pid != PID && ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
    }

    /** The kernel's id of this boot (Linux), or null when it does not say. */
    public static String bootId() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
