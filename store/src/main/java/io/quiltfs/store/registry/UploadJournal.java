package io.quiltfs.store.registry;

import com.fasterxml.jackson.databind.JsonNode;
import io.quiltfs.store.json.Json;
import io.quiltfs.store.state.AtomicFile;
import io.quiltfs.store.state.LocalProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multipart uploads that processes of one home began in one registry and have not ended:
 * one small file each (key, upload id, and who began it), made when the upload is created and
 * deleted once it is completed or aborted. A process killed with SIGKILL (which no shutdown hook
 * sees) leaves its uploads' parts in the bucket, unlisted and billed until a lifecycle rule
 * removes them; its files stay here, and a later push from the home aborts the uploads of
 * processes that are gone.
 *
 * <p>An upload of a live process (another push running now) is never touched. A process is
 * known by host name, boot id, pid namespace, pid and start time in clock ticks since boot (not
 * a wall-clock instant, which moves when the clock is stepped): a record from another host or
 * pid namespace (a home shared by machines or containers) is left alone, a record from an
 * earlier boot is dead, and a reused pid does not pass for the killed process. Where these
 * cannot be read (not Linux) nothing is judged dead. Losing the folder only forgets what to
 * clean.
 */
final class UploadJournal {
    private static final Logger log = LoggerFactory.getLogger(UploadJournal.class);
    private static final long PID = LocalProcess.PID;
    /** Who this process is: host, boot, pid namespace, pid and start ticks; null fields when unknown. */
    private static final Identity SELF = new Identity(read("/proc/sys/kernel/hostname"),
            LocalProcess.bootId(), link("/proc/self/ns/pid"), PID, startTicks(PID));

    private record Identity(String host, String boot, String pidNamespace, long pid, String start) {
    }

    /** An upload a process that is gone left open. */
    record Orphan(Path file, String key, String uploadId) {
    }

    private final Path dir;

    /** {@code dir} null: nothing is recorded (no home). */
    UploadJournal(Path dir) {
        this.dir = dir;
    }

    /** Records an upload just created; the file to give {@link #end}, or null if none was written. */
    Path begin(String key, String uploadId) {
        if (dir == null) {
            return null;
        }
        // Unique among processes whatever their pids (several hosts or containers may share a home).
        Path f = dir.resolve(PID + "-" + java.util.UUID.randomUUID() + ".json");
        try {
            Files.createDirectories(dir);
            AtomicFile.write(f, Json.MAPPER.writeValueAsBytes(Json.object().put("key", key).put("upload_id", uploadId)
                    .put("host", SELF.host()).put("boot", SELF.boot()).put("pid_namespace", SELF.pidNamespace())
                    .put("pid", PID).put("start", SELF.start())));
            return f;
        } catch (IOException e) {
            // The upload itself is fine; only a kill during it would leave it unrecorded.
            log.warn("cannot record the multipart upload of {} in {}: {}", key, dir, e.getMessage());
            return null;
        }
    }

    /** The upload is completed or aborted: forget it. */
    void end(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            log.debug("cannot delete {}: {}", file, e.getMessage());
        }
    }

    /**
     * The uploads recorded by processes that are no longer running. An unreadable record (a
     * kill during its write leaves none: it is written atomically) is deleted and logged.
     */
    List<Orphan> orphans() {
        List<Orphan> out = new ArrayList<>();
        if (dir == null) {
            return out;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.json")) {
            for (Path f : s) {
                try {
                    JsonNode j = Json.parse(new String(Files.readAllBytes(f), StandardCharsets.UTF_8));
                    String key = j.path("key").asText(null);
                    String id = j.path("upload_id").asText(null);
                    if (key == null || id == null) {
                        throw new IOException("no key or upload_id");
                    }
                    Identity who = new Identity(j.path("host").asText(null), j.path("boot").asText(null),
                            j.path("pid_namespace").asText(null), j.path("pid").asLong(-1), j.path("start").asText(null));
                    if (gone(who)) {
                        out.add(new Orphan(f, key, id));
                    }
                } catch (NoSuchFileException gone) {
                    // ended meanwhile
                } catch (IOException | RuntimeException e) {
                    log.warn("deleting the unreadable record of a multipart upload {}: {}", f, e.getMessage());
                    end(f);
                }
            }
        } catch (NoSuchFileException none) {
            return out;
        } catch (IOException e) {
            log.warn("cannot list the multipart uploads recorded in {}: {}", dir, e.getMessage());
        }
        return out;
    }

    /** Whether the process that wrote a record is certainly not running: false when in doubt. */
    private static boolean gone(Identity who) {
        if (SELF.host() == null || SELF.boot() == null || SELF.start() == null || who.host() == null
                || who.boot() == null || who.start() == null || !who.host().equals(SELF.host())) {
            return false; // cannot tell here, or another machine's
        }
        if (!who.boot().equals(SELF.boot())) {
            return true; // this machine has restarted since
        }
        if (who.pidNamespace() == null || !who.pidNamespace().equals(SELF.pidNamespace())) {
            return false; // a container's pids are not ours to look up
        }
        return !who.start().equals(startTicks(who.pid()));
    }

    /** The start time of a process in clock ticks after boot ({@code /proc/PID/stat} field 22), or null. */
    private static String startTicks(long pid) {
        String stat = read("/proc/" + pid + "/stat");
        if (stat == null) {
            return null;
        }
        // The name (field 2) is in parentheses and may hold spaces or ')': count from the last ')'.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return f.length > 19 ? f[19] : null;
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file)).trim();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static String link(String file) {
        try {
            return Files.readSymbolicLink(Path.of(file)).toString();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
